// Sources: the channels events arrive through (app, website, mini-program, POS, WeCom, …), each
// with its own write key. Create and edit them (kind, trust, schema policy, rate limit), copy the
// key and a ready-to-paste snippet (curl, Segment's Python and Node libraries with `host` set to
// this server), see and rotate the identity-verification secret of a client source, rotate the
// key, archive (the key stops working) and restore.
import { Alert, App, Button, Form, Input, InputNumber, Modal, Radio, Select, Space, Table, Tabs, Tag, Tooltip, Typography } from 'antd';
import { EditOutlined, KeyOutlined, PlusOutlined, SyncOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { api, apiPath } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../app/PageState';
import { SOURCE_KINDS, cdpPath, useInvalidateCdp, useSources, type Source, type SourceInput } from './api';
import { codeLabel, snippets, verificationSnippet } from './model';
import { kindVisual } from './visuals';

export default function SourcesPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const sources = useSources();
  const invalidate = useInvalidateCdp();
  const [editing, setEditing] = useState<Source | 'new' | null>(null);
  const [showing, setShowing] = useState<Source | null>(null);

  const rotate = (source: Source) =>
    modal.confirm({
      title: t('cdp.sources.rotateConfirm', { name: source.name }),
      content: t('cdp.sources.rotateHint'),
      okButtonProps: { danger: true },
      okText: t('cdp.sources.rotate'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const updated = await api.post<Source>(cdpPath(apiPath`/sources/${source.id}/rotate-key`));
          message.success(t('cdp.sources.rotated'));
          // The answer holds the new key: show it at once, refresh the list behind it.
          setShowing(updated);
          void invalidate();
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const setArchived = async (source: Source, archived: boolean) => {
    try {
      await api.patch<Source>(cdpPath(apiPath`/sources/${source.id}`), { archived } satisfies SourceInput);
      message.success(t(archived ? 'cdp.sources.archived' : 'cdp.sources.restored'));
      await invalidate();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const archive = (source: Source) =>
    modal.confirm({
      title: t('cdp.sources.archiveConfirm', { name: source.name }),
      content: t('cdp.sources.archiveHint'),
      okButtonProps: { danger: true },
      okText: t('cdp.sources.archive'),
      cancelText: t('common.cancel'),
      onOk: () => setArchived(source, true),
    });

  return (
    <div data-testid="cdp-sources">
      <div style={{ display: 'flex', marginBottom: 12, gap: 12, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('cdp.sources.title')}
        </Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-source">
          {t('cdp.sources.new')}
        </Button>
      </div>
      {sources.error ? (
        <PageError error={sources.error} onRetry={() => sources.refetch()} />
      ) : (
        <Table<Source>
          rowKey="id"
          loading={sources.isLoading}
          dataSource={sources.data ?? []}
          pagination={false}
          locale={{ emptyText: t('cdp.sources.empty') }}
          scroll={{ x: 'max-content' }}
          data-testid="sources"
          columns={[
            {
              key: 'name',
              title: t('common.name'),
              render: (_, s) => {
                const visual = kindVisual(s.kind);
                return (
                  <Space>
                    <span style={{ color: visual.color }}>{visual.icon}</span>
                    <Typography.Text strong delete={Boolean(s.archived_at)}>{s.name}</Typography.Text>
                    {s.archived_at && <Tag>{t('cdp.sources.archivedTag')}</Tag>}
                  </Space>
                );
              },
            },
            { key: 'kind', title: t('cdp.sources.kind'), render: (_, s) => <Tag>{codeLabel(t, 'cdp.kind', s.kind)}</Tag> },
            {
              key: 'trust',
              title: t('cdp.sources.trust'),
              render: (_, s) => (
                <Tooltip title={t(`cdp.trust.${s.trust}Hint`)}>
                  <Tag color={s.trust === 'server' ? 'blue' : 'default'} data-testid="source-trust">
                    {t(`cdp.trust.${s.trust}`)}
                  </Tag>
                </Tooltip>
              ),
            },
            { key: 'policy', title: t('cdp.sources.policy'), render: (_, s) => t(`cdp.policy.${s.schema_policy}`) },
            { key: 'rate', title: t('cdp.sources.rateLimit'), render: (_, s) => (s.rate_limit ? t('cdp.sources.perSecond', { count: i18n.number(s.rate_limit) }) : t('cdp.sources.unlimited')) },
            {
              key: 'key',
              title: t('cdp.sources.writeKey'),
              render: (_, s) => (
                <Typography.Text code copyable={{ text: s.write_key, tooltips: [t('cdp.sources.copy'), t('cdp.sources.copied')] }}>
                  {s.write_key.slice(0, 7)}…
                </Typography.Text>
              ),
            },
            { key: 'created', title: t('common.created'), render: (_, s) => i18n.dateTime(s.created_at) },
            {
              key: 'actions',
              title: t('common.actions'),
              fixed: 'right',
              render: (_, s) => (
                <Space wrap>
                  <Button size="small" icon={<KeyOutlined />} onClick={() => setShowing(s)} data-testid="show-snippet">
                    {t('cdp.sources.setup')}
                  </Button>
                  <Tooltip title={t('common.edit')}>
                    <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(s)} aria-label={t('common.edit')} />
                  </Tooltip>
                  <Tooltip title={t('cdp.sources.rotate')}>
                    <Button size="small" icon={<SyncOutlined />} onClick={() => rotate(s)} aria-label={t('cdp.sources.rotate')} disabled={Boolean(s.archived_at)} />
                  </Tooltip>
                  {s.archived_at ? (
                    <Button size="small" onClick={() => setArchived(s, false)}>
                      {t('cdp.sources.restore')}
                    </Button>
                  ) : (
                    <Button size="small" danger onClick={() => archive(s)}>
                      {t('cdp.sources.archive')}
                    </Button>
                  )}
                </Space>
              ),
            },
          ]}
        />
      )}
      {editing && (
        <SourceModal
          source={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(s) => {
            setEditing(null);
            setShowing(s);
          }}
        />
      )}
      {showing && <SnippetModal source={showing} onClose={() => setShowing(null)} />}
    </div>
  );
}

interface SourceForm {
  name: string;
  kind: string;
  trust: 'client' | 'server';
  schema_policy: 'quarantine' | 'reject';
  rate_limit: number | null;
}

/** The trust a new source of `kind` gets unless the admin says otherwise (as the server does). */
function defaultTrust(kind: string): 'client' | 'server' {
  return ['app', 'web', 'mini_program'].includes(kind) ? 'client' : 'server';
}

function SourceModal({ source, onClose, onCreated }: { source: Source | null; onClose: () => void; onCreated: (s: Source) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const invalidate = useInvalidateCdp();
  const [form] = Form.useForm<SourceForm>();
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  const save = async () => {
    const values = await form.validateFields();
    const body: SourceInput = {
      name: values.name.trim(),
      kind: values.kind,
      trust: values.trust,
      schema_policy: values.schema_policy,
      rate_limit: values.rate_limit ?? 0,
    };
    setSaving(true);
    setFailure(null);
    try {
      if (source) {
        await api.patch<Source>(cdpPath(apiPath`/sources/${source.id}`), body);
        message.success(t('common.saved'));
        await invalidate();
        onClose();
      } else {
        const created = await api.post<Source>(cdpPath('/sources'), body);
        message.success(t('cdp.sources.created', { name: created.name }));
        // The answer holds the write key: the snippets open at once, without waiting for every
        // CDP query to be fetched again and the list behind them to be drawn.
        onCreated(created);
        void invalidate();
      }
    } catch (error) {
      setFailure(errorMessage(i18n, error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open
      title={source ? t('cdp.sources.edit', { name: source.name }) : t('cdp.sources.new')}
      onCancel={onClose}
      onOk={save}
      okText={source ? t('common.save') : t('common.create')}
      cancelText={t('common.cancel')}
      confirmLoading={saving}
      destroyOnHidden
    >
      <Form<SourceForm>
        form={form}
        layout="vertical"
        data-testid="source-form"
        initialValues={{
          name: source?.name ?? '',
          kind: source?.kind ?? 'app',
          trust: source?.trust ?? defaultTrust('app'),
          schema_policy: source?.schema_policy ?? 'quarantine',
          rate_limit: source?.rate_limit ?? null,
        }}
      >
        {failure && <Alert type="error" showIcon title={failure} style={{ marginBottom: 12 }} />}
        <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true, message: t('common.fieldRequired') }]}>
          <Input autoFocus />
        </Form.Item>
        <Form.Item name="kind" label={t('cdp.sources.kind')}>
          <Select
            options={SOURCE_KINDS.map((k) => ({ value: k, label: t(`cdp.kind.${k}`) }))}
            onChange={(kind: string) => {
              if (!source) form.setFieldValue('trust', defaultTrust(kind));
            }}
          />
        </Form.Item>
        <Form.Item name="trust" label={t('cdp.sources.trust')} extra={t('cdp.sources.trustHint')}>
          <Radio.Group
            data-testid="source-trust-input"
            options={[
              { value: 'client', label: t('cdp.trust.client') },
              { value: 'server', label: t('cdp.trust.server') },
            ]}
          />
        </Form.Item>
        <Form.Item name="schema_policy" label={t('cdp.sources.policy')} extra={t('cdp.sources.policyHint')}>
          <Radio.Group
            options={[
              { value: 'quarantine', label: t('cdp.policy.quarantine') },
              { value: 'reject', label: t('cdp.policy.reject') },
            ]}
          />
        </Form.Item>
        <Form.Item name="rate_limit" label={t('cdp.sources.rateLimit')} extra={t('cdp.sources.rateHint')}>
          <InputNumber min={0} precision={0} style={{ width: 200 }} suffix={t('cdp.sources.perSecondUnit')} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function SnippetModal({ source, onClose }: { source: Source; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const invalidate = useInvalidateCdp();
  const [secret, setSecret] = useState(source.verification_secret ?? null);
  const code = snippets(window.location.origin, source.write_key);
  const rotateSecret = () =>
    modal.confirm({
      title: t('cdp.sources.rotateSecretConfirm', { name: source.name }),
      content: t('cdp.sources.rotateSecretHint'),
      okButtonProps: { danger: true },
      okText: t('cdp.sources.rotateSecret'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const updated = await api.post<Source>(cdpPath(apiPath`/sources/${source.id}/rotate-verification-secret`));
          setSecret(updated.verification_secret ?? null);
          message.success(t('cdp.sources.secretRotated'));
          await invalidate();
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });
  const block = (text: string, testId: string) => (
    <Typography.Paragraph copyable={{ text, tooltips: [t('cdp.sources.copy'), t('cdp.sources.copied')] }} data-testid={testId}>
      <pre style={{ margin: 0, background: '#fafafa', padding: 12, borderRadius: 6, overflowX: 'auto', fontSize: 12 }}>{text}</pre>
    </Typography.Paragraph>
  );
  return (
    <Modal open title={t('cdp.sources.setupTitle', { name: source.name })} onCancel={onClose} footer={<Button onClick={onClose}>{t('common.close')}</Button>} width={720}>
      <Typography.Text type="secondary">{t('cdp.sources.writeKey')}</Typography.Text>
      <Typography.Paragraph copyable={{ text: source.write_key, tooltips: [t('cdp.sources.copy'), t('cdp.sources.copied')] }} code style={{ wordBreak: 'break-all' }} data-testid="write-key">
        {source.write_key}
      </Typography.Paragraph>
      <Typography.Paragraph type="secondary">{t('cdp.sources.setupHint')}</Typography.Paragraph>
      <Tabs
        items={[
          { key: 'curl', label: 'curl', children: block(code.curl, 'snippet-curl') },
          { key: 'python', label: 'Python', children: block(code.python, 'snippet-python') },
          { key: 'node', label: 'Node.js', children: block(code.node, 'snippet-node') },
          {
            key: 'verification',
            label: t('cdp.sources.verification'),
            children: (
              <div data-testid="verification">
                <Typography.Paragraph type="secondary">
                  {t(source.trust === 'client' ? 'cdp.sources.verificationHint' : 'cdp.sources.verificationServer')}
                </Typography.Paragraph>
                <Typography.Text type="secondary">{t('cdp.sources.verificationSecret')}</Typography.Text>
                {secret ? (
                  <Typography.Paragraph copyable={{ text: secret, tooltips: [t('cdp.sources.copy'), t('cdp.sources.copied')] }} code style={{ wordBreak: 'break-all' }} data-testid="verification-secret">
                    {secret}
                  </Typography.Paragraph>
                ) : (
                  <Typography.Paragraph type="secondary">{t('cdp.sources.noSecret')}</Typography.Paragraph>
                )}
                {block(verificationSnippet(secret ?? 'vs_…'), 'snippet-verification')}
                <Button icon={<SyncOutlined />} onClick={rotateSecret} data-testid="rotate-secret">
                  {t(secret ? 'cdp.sources.rotateSecret' : 'cdp.sources.createSecret')}
                </Button>
              </div>
            ),
          },
        ]}
      />
    </Modal>
  );
}
