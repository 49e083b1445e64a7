// Data lineage (数据血缘) of one membership: the definition version the customer was let in by and,
// per condition, the raw events that satisfied it in the order they happened
// ([点击广告] → [注册表单] → [首单支付] → [客服咨询]).
import { Empty, Space, Tag, Tooltip, Typography } from 'antd';
import { CheckCircleTwoTone, CloseCircleTwoTone } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Fragment } from 'react';
import { api, apiPath } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading } from '../../app/PageState';
import { cdpPath } from '../cdp/api';
import { localDay } from '../cdp/model';
import { segmentKeys, type Lineage as LineageData, type LineageEvent, type TestLineage } from './api';
import { describeLeaf, eventTime, inTimeOrder } from './model';
import { useDescribeNames } from './fieldLabels';
import type { DescribeNames } from './model';

export function Lineage({ profileId, segmentId }: { profileId: string; segmentId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const names = useDescribeNames();
  const lineage = useQuery({
    queryKey: segmentKeys.lineage(profileId, segmentId),
    queryFn: () => api.get<LineageData>(cdpPath(apiPath`/profiles/${profileId}/lineage/${segmentId}`)),
  });
  if (lineage.isLoading) return <PageLoading />;
  if (lineage.error || !lineage.data) return <PageError error={lineage.error} onRetry={() => lineage.refetch()} />;
  const l = lineage.data;
  const chain = inTimeOrder(l.chain);
  return (
    <div data-testid="lineage" style={{ padding: '8px 0' }}>
      <Space wrap style={{ marginBottom: 8 }}>
        <Tag color="purple" data-testid="lineage-version">{t('segments.lineage.version', { version: l.version })}</Tag>
        <Typography.Text type="secondary">
          {l.member && l.entered_at
            ? t('segments.lineage.enteredAt', { when: i18n.dateTime(l.entered_at) })
            : t('segments.lineage.asOf', { when: i18n.dateTime(l.as_of) })}
        </Typography.Text>
      </Space>
      {chain.length > 0 ? (
        <div style={{ marginBottom: 12 }}>
          <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
            {t('segments.lineage.path')}
          </Typography.Text>
          <EventChain events={chain} testId="lineage-path" names={names} />
        </div>
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('segments.lineage.noEvents')} />
      )}
      <Space orientation="vertical" style={{ width: '100%' }} size={8}>
        {l.tests.map((test, i) => (
          <TestRow key={i} test={test} names={names} />
        ))}
      </Space>
    </div>
  );
}

function TestRow({ test, names }: { test: TestLineage; names: Required<DescribeNames> }) {
  const i18n = useI18n();
  const { t } = i18n;
  const held = test.passed === null || test.passed === undefined ? null : test.negated ? !test.passed : test.passed;
  const events = inTimeOrder(test.events);
  const value = test.value === null || test.value === undefined ? null : typeof test.value === 'string' ? test.value : JSON.stringify(test.value);
  return (
    <div data-testid="lineage-condition" data-kind={test.kind} style={{ borderInlineStart: '3px solid #d6e4ff', paddingInlineStart: 8 }}>
      <Space size={6} wrap>
        {held === true && <CheckCircleTwoTone twoToneColor="#52c41a" />}
        {held === false && <CloseCircleTwoTone twoToneColor="#ff4d4f" />}
        {test.negated && <Tag>{t('segments.describe.not')}</Tag>}
        <Typography.Text>{describeLeaf(t, test.test, names)}</Typography.Text>
        {typeof test.count === 'number' && <Tag>{t('segments.lineage.count', { count: i18n.number(test.count) })}</Tag>}
        {test.kind === 'trait' && (
          <Tag color={value === null ? 'default' : 'cyan'}>{value === null ? t('segments.lineage.noValue') : t('segments.lineage.value', { value })}</Tag>
        )}
      </Space>
      {events.length > 0 ? (
        <EventChain events={events} testId="lineage-events" names={names} />
      ) : test.kind === 'behavior' ? (
        <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
          {t('segments.lineage.noConditionEvents')}
        </Typography.Text>
      ) : null}
    </div>
  );
}

/** An event by its display name; `$page` and friends without one by their call name. */
function eventName(e: LineageEvent, names: Required<DescribeNames>): string {
  const shown = names.event(e.event);
  return shown === e.event && e.event.startsWith('$') ? e.event.slice(1) : shown;
}

function EventChain({ events, testId, names }: { events: LineageEvent[]; testId: string; names: Required<DescribeNames> }) {
  const i18n = useI18n();
  return (
    <div data-testid={testId} style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 4, marginTop: 4 }}>
      {events.map((e, i) => {
        const at = eventTime(e);
        const props = Object.entries(e.properties ?? {})
          .slice(0, 6)
          .map(([k, v]) => `${names.property(e.event, k)}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
        return (
          <Fragment key={`${e.seq}-${i}`}>
            {i > 0 && <span aria-hidden style={{ color: '#8c8c8c' }}>→</span>}
            <Tooltip
              title={
                <div>
                  {Number.isFinite(at) && <div>{i18n.dateTime(new Date(at).toISOString())}</div>}
                  {props.map((p) => (
                    <div key={p}>{p}</div>
                  ))}
                </div>
              }
            >
              <Tag color="geekblue" style={{ marginInlineEnd: 0 }} data-testid="lineage-event" data-at={Number.isFinite(at) ? at : ''}>
                [{eventName(e, names)}]
                {Number.isFinite(at) && (
                  <Typography.Text type="secondary" style={{ fontSize: 11, marginInlineStart: 4 }}>
                    {i18n.date(localDay(new Date(at).toISOString()))}
                  </Typography.Text>
                )}
              </Tag>
            </Tooltip>
          </Fragment>
        );
      })}
    </div>
  );
}
