// Creating or editing a segment: name, tag and description, the visual builder, and beside it a
// live count with a sample of members (a debounced preview of the condition being edited, with
// whether the count is complete and how long it took). Server errors that point into the
// condition are shown under their block.
import { Alert, App, Button, Card, Col, Form, Input, Result, Row, Space, Spin, Statistic, Tag, Tooltip, Typography } from 'antd';
import { SaveOutlined } from '@ant-design/icons';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, request, apiPath } from '../../api/client';
import { useObjects } from '../../api/queries';
import { useI18n, type I18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { errorCodeText } from '../../i18n/codes';
import { translateFieldError } from '../records/fieldErrors';
import { filterFields } from '../records/filter/conditionModel';
import { cdpKeys, cdpPath, useCdpAccess, type HealthReport } from '../cdp/api';
import { useEventTypes } from '../cdp/eventNames';
import { SegmentBuilder } from './SegmentBuilder';
import { segmentKeys, segmentPath, useInvalidateSegments, type Preview, type Segment, type SegmentInput, type SegmentPatch } from './api';
import { blockForPointer, contactFields, fromCondition, newGroup, toCondition, UnreadableCondition, type SegmentGroup } from './model';
import { MemberSample } from './members';

const PREVIEW_DELAY_MS = 500;
const SAMPLE = 10;

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const handle = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(handle);
  }, [value, ms]);
  return current;
}

/** The JSON pointer of an API error, if it has one. */
export function errorPointer(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  const details = error.details as { path?: unknown; pointer?: unknown } | null;
  const path = details?.path ?? details?.pointer;
  return typeof path === 'string' ? path : null;
}

/**
 * A condition error for its block, in the user's language; the English interface adds the
 * server's detail without the pointer the block already shows.
 */
function blockMessage(i18n: I18n, error: ApiError): string {
  const text = errorCodeText(i18n.locale, error.code, error.status);
  if (!text) return errorMessage(i18n, error);
  return i18n.locale === 'en' ? `${text} (${error.message.replace(/^invalid condition at \S*: /, '')})` : text;
}

export default function SegmentEditPage() {
  const { id } = useParams();
  const { t } = useI18n();
  const { isAdmin } = useCdpAccess();
  const segment = useQuery({
    queryKey: segmentKeys.one(id ?? ''),
    enabled: Boolean(id) && isAdmin,
    queryFn: () => api.get<Segment>(segmentPath(apiPath`/${String(id)}`)),
  });
  if (!isAdmin) return <Result status="403" title="403" subTitle={t('cdp.adminOnly')} />;
  if (id && segment.isLoading) return <PageLoading />;
  if (id && (segment.error || !segment.data)) return <PageError error={segment.error} onRetry={() => segment.refetch()} />;
  return <Editor key={id ?? 'new'} segment={segment.data} />;
}

function readTree(segment: Segment | undefined): { tree: SegmentGroup; unreadable: boolean } {
  if (!segment) return { tree: newGroup(), unreadable: false };
  try {
    return { tree: fromCondition(segment.condition), unreadable: false };
  } catch (error) {
    if (error instanceof UnreadableCondition) return { tree: newGroup(), unreadable: true };
    throw error;
  }
}

function Editor({ segment }: { segment?: Segment }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const navigate = useNavigate();
  const invalidate = useInvalidateSegments();
  const { isAdmin } = useCdpAccess();
  const objects = useObjects();
  const eventTypes = useEventTypes();
  const health = useQuery({
    queryKey: cdpKeys.health(60),
    enabled: isAdmin,
    queryFn: () => api.get<HealthReport>(cdpPath('/health'), { minutes: 60 }),
    staleTime: 60_000,
  });
  const initial = useMemo(() => readTree(segment), [segment]);
  const [tree, setTree] = useState<SegmentGroup>(initial.tree);
  const [form] = Form.useForm<{ name: string; tag: string; description: string }>();
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<{ key: string; error: unknown } | null>(null);

  const fields = useMemo(() => {
    const all = objects.data ?? [];
    const contact = all.find((o) => o.api_name === 'contact');
    return contact ? contactFields(filterFields(contact, all)) : [];
  }, [objects.data]);
  const traits = useMemo(() => (health.data?.traits ?? []).map((tr) => tr.trait).sort(), [health.data]);

  const built = useMemo(() => toCondition(tree), [tree]);
  const key = JSON.stringify(built.condition);
  const debouncedKey = useDebounced(key, PREVIEW_DELAY_MS);
  const preview = useQuery({
    queryKey: segmentKeys.preview(debouncedKey),
    enabled: debouncedKey !== 'null',
    queryFn: ({ signal }) =>
      request<Preview>('POST', segmentPath('/preview'), { body: { condition: JSON.parse(debouncedKey), sample: SAMPLE }, signal }),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 5_000,
  });

  // Errors about the condition on screen, by block; others are shown above the builder.
  const { errors, general } = useMemo(() => {
    const map = new Map<string, string>();
    const rest: string[] = [];
    const add = (error: unknown) => {
      if (!(error instanceof ApiError)) {
        if (error) rest.push(errorMessage(i18n, error));
        return;
      }
      const block = blockForPointer(built.pointers, errorPointer(error));
      if (block && !map.has(block)) map.set(block, blockMessage(i18n, error));
      else if (!block) rest.push(errorMessage(i18n, error));
    };
    if (saveError && saveError.key === key) add(saveError.error);
    if (preview.error && debouncedKey === key) add(preview.error);
    return { errors: map, general: [...new Set(rest)] };
  }, [saveError, preview.error, debouncedKey, key, built.pointers, i18n]);

  const onChange = useCallback((next: SegmentGroup) => setTree(next), []);

  const save = async (values: { name: string; tag: string; description: string }) => {
    if (!built.condition) {
      message.warning(t('segments.builder.needBlock'));
      return;
    }
    setSaving(true);
    setSaveError(null);
    try {
      const tag = values.tag?.trim() ?? '';
      const name = values.name.trim();
      const description = values.description?.trim() ?? '';
      let saved: Segment;
      if (segment) {
        const patch: SegmentPatch = { name, description };
        // An empty tag removes it.
        if (tag !== (segment.tag ?? '')) patch.tag = tag;
        const before = initial.unreadable ? segment.condition : toCondition(fromCondition(segment.condition)).condition;
        if (JSON.stringify(before) !== key) patch.condition = built.condition as Record<string, unknown>;
        saved = await api.patch<Segment>(segmentPath(apiPath`/${segment.id}`), patch);
      } else {
        const input: SegmentInput = { name, description, condition: built.condition as Record<string, unknown> };
        if (tag) input.tag = tag;
        saved = await api.post<Segment>(segmentPath(), input);
      }
      message.success(t('segments.saved', { name: saved.name }));
      await invalidate();
      navigate(`/cdp/segments/${saved.id}`);
    } catch (error) {
      setSaveError({ key, error });
      if (error instanceof ApiError) {
        const fieldErrors = error.fieldErrors.filter((f) => ['name', 'tag', 'description'].includes(f.field));
        if (fieldErrors.length) form.setFields(fieldErrors.map((f) => ({ name: f.field as 'name', errors: [translateFieldError(i18n, f.code, f.message)] })));
      }
      message.error(errorMessage(i18n, error));
    } finally {
      setSaving(false);
    }
  };

  if (objects.isLoading || eventTypes.isLoading) return <PageLoading />;
  if (eventTypes.error) return <PageError error={eventTypes.error} onRetry={() => eventTypes.refetch()} />;

  return (
    <div data-testid="segment-editor">
      <Link to={segment ? `/cdp/segments/${segment.id}` : '/cdp/segments'}>
        <Typography.Text type="secondary">{segment ? segment.name : t('segments.title')}</Typography.Text>
      </Link>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {segment ? t('segments.edit', { name: segment.name }) : t('segments.new')}
      </Typography.Title>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={15}>
          <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
            <Card>
              <Form
                form={form}
                layout="vertical"
                initialValues={{ name: segment?.name ?? '', tag: segment?.tag ?? '', description: segment?.description ?? '' }}
                onFinish={save}
                id="segment-form"
              >
                <Row gutter={16}>
                  <Col xs={24} md={14}>
                    <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true, message: t('common.fieldRequired') }]}>
                      <Input maxLength={200} data-testid="segment-name" />
                    </Form.Item>
                  </Col>
                  <Col xs={24} md={10}>
                    <Form.Item name="tag" label={t('segments.tag')} extra={t('segments.tagHint')}>
                      <Input maxLength={100} data-testid="segment-tag" />
                    </Form.Item>
                  </Col>
                </Row>
                <Form.Item name="description" label={t('segments.description')} style={{ marginBottom: 0 }}>
                  <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} />
                </Form.Item>
              </Form>
            </Card>
            <Card title={t('segments.builder.title')}>
              {initial.unreadable && (
                <Alert
                  type="warning"
                  showIcon
                  style={{ marginBottom: 12 }}
                  title={t('segments.builder.unreadable')}
                  description={<Typography.Text code>{JSON.stringify(segment?.condition)}</Typography.Text>}
                />
              )}
              {general.map((text) => (
                <Alert key={text} type="error" showIcon style={{ marginBottom: 12 }} title={text} data-testid="builder-error" />
              ))}
              <SegmentBuilder value={tree} onChange={onChange} fields={fields} eventTypes={eventTypes.data ?? []} traits={traits} errors={errors} />
            </Card>
            <Space>
              <Button type="primary" icon={<SaveOutlined />} htmlType="submit" form="segment-form" loading={saving} disabled={!built.condition} data-testid="save-segment">
                {t('common.save')}
              </Button>
              <Button onClick={() => navigate(segment ? `/cdp/segments/${segment.id}` : '/cdp/segments')}>{t('common.cancel')}</Button>
            </Space>
          </Space>
        </Col>
        <Col xs={24} xl={9}>
          <div style={{ position: 'sticky', top: 16 }}>
            <PreviewCard
              preview={preview.data}
              loading={preview.isFetching || key !== debouncedKey}
              empty={key === 'null'}
              failed={Boolean(preview.error) && debouncedKey === key}
            />
          </div>
        </Col>
      </Row>
    </div>
  );
}

function PreviewCard({ preview, loading, empty, failed }: { preview?: Preview; loading: boolean; empty: boolean; failed: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <Card
      title={t('segments.preview.title')}
      extra={loading && !empty ? <Spin size="small" /> : null}
      data-testid="segment-preview"
      data-state={empty ? 'empty' : loading ? 'loading' : failed ? 'error' : 'ready'}
    >
      {empty ? (
        <Typography.Text type="secondary">{t('segments.preview.empty')}</Typography.Text>
      ) : (
        <>
          <Space align="end" size="large" wrap>
            <Statistic
              title={t('segments.preview.count')}
              value={preview ? preview.count : '—'}
              formatter={(v) => <span data-testid="preview-count">{typeof v === 'number' ? i18n.number(v) : String(v)}</span>}
            />
            {preview && (
              <Space orientation="vertical" size={2}>
                {preview.complete === true && <Tag color="green" data-testid="preview-complete">{t('segments.preview.complete')}</Tag>}
                {preview.complete === false && (
                  <Tooltip title={t('segments.preview.partialHint')}>
                    <Tag color="orange" data-testid="preview-partial">{t('segments.preview.partial')}</Tag>
                  </Tooltip>
                )}
                <Typography.Text type="secondary" data-testid="preview-took">
                  {t('segments.preview.took', { ms: i18n.number(preview.took_ms) })}
                </Typography.Text>
              </Space>
            )}
          </Space>
          {failed && (
            <Typography.Paragraph type="danger" style={{ marginTop: 8 }}>
              {t('segments.preview.failed')}
            </Typography.Paragraph>
          )}
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            {t('segments.preview.sample')}
          </Typography.Title>
          <MemberSample members={preview?.sample ?? []} testId="preview-sample" />
        </>
      )}
    </Card>
  );
}
