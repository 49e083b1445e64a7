// Scene snapshots (场景化快照) of a segment: freeze the members now under a name
// ("618大促前72小时活跃用户群"), list them, download one as CSV, push one to an outbound webhook
// endpoint (queued as signed `segment.snapshot` messages, in the endpoint's delivery log), and
// compare two (who joined, who left).
import { Alert, App, Button, Col, Descriptions, Empty, Form, Input, Modal, Row, Select, Space, Statistic, Table, Typography } from 'antd';
import { CameraOutlined, DiffOutlined, DownloadOutlined, HistoryOutlined, SendOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, apiPath } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../app/PageState';
import { useCdpAccess } from '../cdp/api';
import { useEndpoints, type Endpoint } from '../settings/webhooks/api';
import { DeliveriesDrawer } from '../settings/webhooks/DeliveriesDrawer';
import { segmentKeys, segmentPath, snapshotPath, useInvalidateSegments, type PushReport, type Segment, type Snapshot, type SnapshotDiff } from './api';
import { MemberSample } from './members';

export function SnapshotsPanel({ segment }: { segment: Segment }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const { isAdmin } = useCdpAccess();
  const invalidate = useInvalidateSegments();
  const [form] = Form.useForm<{ name: string }>();
  const [taking, setTaking] = useState(false);
  const [pushing, setPushing] = useState<Snapshot | null>(null);
  const [compare, setCompare] = useState<{ from?: string; to?: string }>({});
  const snapshots = useQuery({
    queryKey: segmentKeys.snapshots(segment.id),
    queryFn: () => api.get<Snapshot[]>(segmentPath(apiPath`/${segment.id}/snapshots`)),
  });
  const list = [...(snapshots.data ?? [])].sort((a, b) => b.taken_at.localeCompare(a.taken_at));

  const take = async ({ name }: { name: string }) => {
    setTaking(true);
    try {
      const snapshot = await api.post<Snapshot>(segmentPath(apiPath`/${segment.id}/snapshots`), { name: name.trim() });
      message.success(t('segments.snapshots.taken', { name: snapshot.name, count: i18n.number(snapshot.member_count) }));
      form.resetFields();
      await invalidate();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setTaking(false);
    }
  };

  const options = list.map((s) => ({ value: s.id, label: `${s.name} · ${i18n.dateTime(s.taken_at)}` }));

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }} data-testid="snapshots">
      {isAdmin && segment.state !== 'archived' && (
        <Form form={form} layout="inline" onFinish={take} style={{ rowGap: 8 }}>
          <Form.Item name="name" label={t('segments.snapshots.name')} rules={[{ required: true, whitespace: true, message: t('common.fieldRequired') }]}>
            <Input style={{ minWidth: 280 }} maxLength={200} placeholder={t('segments.snapshots.namePlaceholder')} data-testid="snapshot-name" />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" icon={<CameraOutlined />} loading={taking} data-testid="take-snapshot">
              {t('segments.snapshots.take')}
            </Button>
          </Form.Item>
        </Form>
      )}
      {snapshots.error ? (
        <PageError error={snapshots.error} onRetry={() => snapshots.refetch()} />
      ) : (
        <Table<Snapshot>
          size="small"
          rowKey="id"
          loading={snapshots.isLoading}
          dataSource={list}
          pagination={false}
          locale={{ emptyText: t('segments.snapshots.empty') }}
          scroll={{ x: 'max-content' }}
          data-testid="snapshots-table"
          columns={[
            { key: 'name', title: t('common.name'), render: (_, s) => <Typography.Text strong>{s.name}</Typography.Text> },
            { key: 'taken', title: t('segments.snapshots.takenAt'), render: (_, s) => i18n.dateTime(s.taken_at) },
            { key: 'version', title: t('segments.version'), render: (_, s) => `v${s.version}` },
            {
              key: 'members',
              title: t('segments.members.title'),
              align: 'right',
              render: (_, s) => <span data-testid="snapshot-members">{i18n.number(s.member_count)}</span>,
            },
            {
              key: 'actions',
              title: t('common.actions'),
              render: (_, s) => (
                <Space>
                  <Button size="small" icon={<DownloadOutlined />} href={snapshotPath(apiPath`/${s.id}/members.csv`)} download data-testid="snapshot-csv">
                    CSV
                  </Button>
                  {isAdmin && (
                    <Button size="small" icon={<SendOutlined />} onClick={() => setPushing(s)} data-testid="snapshot-push">
                      {t('segments.snapshots.push')}
                    </Button>
                  )}
                </Space>
              ),
            },
          ]}
        />
      )}
      {list.length >= 2 && (
        <div data-testid="snapshot-diff">
          <Typography.Title level={5}>
            <DiffOutlined /> {t('segments.diff.title')}
          </Typography.Title>
          <Space wrap>
            <Select
              style={{ minWidth: 260 }}
              placeholder={t('segments.diff.from')}
              aria-label={t('segments.diff.from')}
              value={compare.from}
              onChange={(from) => setCompare((c) => ({ ...c, from }))}
              options={options}
              data-testid="diff-from"
            />
            <Typography.Text>→</Typography.Text>
            <Select
              style={{ minWidth: 260 }}
              placeholder={t('segments.diff.to')}
              aria-label={t('segments.diff.to')}
              value={compare.to}
              onChange={(to) => setCompare((c) => ({ ...c, to }))}
              options={options}
              data-testid="diff-to"
            />
          </Space>
          {compare.from && compare.to && compare.from !== compare.to && <DiffView from={compare.from} to={compare.to} />}
        </div>
      )}
      {pushing && <PushModal snapshot={pushing} onClose={() => setPushing(null)} />}
    </Space>
  );
}

function DiffView({ from, to }: { from: string; to: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const diff = useQuery({
    queryKey: segmentKeys.diff(from, to),
    queryFn: () => api.get<SnapshotDiff>(snapshotPath(apiPath`/${from}/diff/${to}`), { limit: 20 }),
  });
  if (diff.error) return <PageError error={diff.error} onRetry={() => diff.refetch()} />;
  if (!diff.data) return null;
  const d = diff.data;
  return (
    <Row gutter={[16, 16]} style={{ marginTop: 16 }} data-testid="diff-result">
      <Col xs={24} lg={12}>
        <Statistic
          title={t('segments.diff.joined')}
          value={d.joined}
          styles={{ content: { color: '#389e0d' } }}
          formatter={(v) => <span data-testid="diff-joined">{i18n.number(Number(v))}</span>}
        />
        <MemberSample members={d.joined_sample} testId="diff-joined-sample" />
      </Col>
      <Col xs={24} lg={12}>
        <Statistic
          title={t('segments.diff.left')}
          value={d.left}
          styles={{ content: { color: '#cf1322' } }}
          formatter={(v) => <span data-testid="diff-left">{i18n.number(Number(v))}</span>}
        />
        <MemberSample members={d.left_sample} testId="diff-left-sample" />
      </Col>
    </Row>
  );
}

function PushModal({ snapshot, onClose }: { snapshot: Snapshot; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const endpoints = useEndpoints();
  const [form] = Form.useForm<{ endpoint_id: string }>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [report, setReport] = useState<{ report: PushReport; endpoint: Endpoint } | null>(null);
  const [log, setLog] = useState<Endpoint | null>(null);
  const enabled = (endpoints.data ?? []).filter((e) => e.enabled);

  const push = async ({ endpoint_id }: { endpoint_id: string }) => {
    const endpoint = enabled.find((e) => e.id === endpoint_id);
    if (!endpoint) return;
    setBusy(true);
    setFailure(null);
    try {
      setReport({ report: await api.post<PushReport>(snapshotPath(apiPath`/${snapshot.id}/push`), { endpoint_id }), endpoint });
    } catch (error) {
      setFailure(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  const toSettings = <Link to="/settings/webhooks">{t('segments.snapshots.toSettings')}</Link>;
  const body = endpoints.error ? (
    <PageError error={endpoints.error} onRetry={() => endpoints.refetch()} />
  ) : report ? (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="push-result" role="status">
      <Alert type="success" showIcon title={t('segments.snapshots.queued', { url: report.endpoint.url })} />
      <Descriptions
        size="small"
        column={1}
        bordered
        items={[
          { key: 'messages', label: t('segments.snapshots.messages'), children: <span data-testid="push-messages">{i18n.number(report.report.messages.length)}</span> },
          { key: 'members', label: t('segments.members.title'), children: <span data-testid="push-members">{i18n.number(report.report.members)}</span> },
          { key: 'batches', label: t('segments.snapshots.batches'), children: <span data-testid="push-batches">{i18n.number(report.report.batches)}</span> },
        ]}
      />
      <Space wrap>
        <Button icon={<HistoryOutlined />} onClick={() => setLog(report.endpoint)} data-testid="push-log">
          {t('segments.snapshots.viewLog')}
        </Button>
        {toSettings}
      </Space>
    </Space>
  ) : !endpoints.isLoading && enabled.length === 0 ? (
    <Empty description={t('segments.snapshots.noEndpoint')} data-testid="push-no-endpoint">
      {toSettings}
    </Empty>
  ) : (
    <>
      <Typography.Paragraph type="secondary">{t('segments.snapshots.pushHint')}</Typography.Paragraph>
      {failure && <Alert type="error" showIcon title={failure} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" onFinish={push}>
        <Form.Item name="endpoint_id" label={t('segments.snapshots.endpoint')} rules={[{ required: true, message: t('segments.snapshots.endpointNeeded') }]}>
          <Select
            loading={endpoints.isLoading}
            aria-label={t('segments.snapshots.endpoint')}
            data-testid="push-endpoint"
            optionLabelProp="title"
            options={enabled.map((e) => ({
              value: e.id,
              title: e.url,
              label: (
                <div style={{ whiteSpace: 'normal', wordBreak: 'break-all' }}>
                  <div>{e.url}</div>
                  {e.description && <Typography.Text type="secondary">{e.description}</Typography.Text>}
                </div>
              ),
            }))}
          />
        </Form.Item>
      </Form>
      <Typography.Text type="secondary">{toSettings}</Typography.Text>
    </>
  );

  return (
    <Modal
      open
      title={t('segments.snapshots.pushTitle', { name: snapshot.name })}
      onCancel={onClose}
      destroyOnHidden
      footer={
        report || (!endpoints.isLoading && enabled.length === 0) ? (
          <Button onClick={onClose}>{t('common.close')}</Button>
        ) : (
          <Space>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="primary" icon={<SendOutlined />} loading={busy} onClick={() => form.submit()} data-testid="push-submit">
              {t('segments.snapshots.push')}
            </Button>
          </Space>
        )
      }
    >
      {body}
      {log && <DeliveriesDrawer endpoint={log} onClose={() => setLog(null)} />}
    </Modal>
  );
}
