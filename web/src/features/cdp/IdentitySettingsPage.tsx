// Identity settings (统一身份图谱): which identifier types merge profiles (and custom types), how
// many merges one identifier may cause, values that never link anyone, the trait → contact field
// and group trait → company field mappings, and the region of phone numbers without a code.
import { Alert, App, Button, Card, Form, Input, InputNumber, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { useObjects } from '../../api/queries';
import type { ObjectDef } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { BUILT_IN_IDENTIFIERS, cdpKeys, cdpPath, type CdpSettings, type IdentifierType } from './api';
import { useIdentifierLabel } from './identifiers';

export default function IdentitySettingsPage() {
  const settings = useQuery({ queryKey: cdpKeys.settings, queryFn: () => api.get<CdpSettings>(cdpPath('/settings')) });
  if (settings.isLoading) return <PageLoading />;
  if (settings.error || !settings.data) return <PageError error={settings.error} onRetry={() => settings.refetch()} />;
  return <SettingsForm initial={settings.data} />;
}

function SettingsForm({ initial }: { initial: CdpSettings }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const objects = useObjects();
  const identifierLabel = useIdentifierLabel();
  const [draft, setDraft] = useState<CdpSettings>(initial);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [custom, setCustom] = useState({ name: '', label_en: '', label_zh: '' });
  useEffect(() => setDraft(initial), [initial]);

  const update = (patch: Partial<CdpSettings>) => setDraft((d) => ({ ...d, ...patch }));
  const setType = (name: string, patch: Partial<IdentifierType>) =>
    update({ identifier_types: draft.identifier_types.map((i) => (i.name === name ? { ...i, ...patch } : i)) });
  const addType = () => {
    const name = custom.name.trim();
    if (!name || draft.identifier_types.some((i) => i.name === name)) return;
    update({ identifier_types: [...draft.identifier_types, { name, label_en: custom.label_en.trim(), label_zh: custom.label_zh.trim(), merge: true }] });
    setCustom({ name: '', label_en: '', label_zh: '' });
  };

  const save = async () => {
    setSaving(true);
    setFailure(null);
    try {
      const saved = await api.put<CdpSettings>(cdpPath('/settings'), draft);
      client.setQueryData(cdpKeys.settings, saved);
      message.success(t('common.saved'));
    } catch (error) {
      setFailure(errorMessage(i18n, error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }} data-testid="cdp-identity">
      <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', alignItems: 'center' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('cdp.identity.title')}
        </Typography.Title>
        <Button onClick={() => { setDraft(initial); setFailure(null); }}>{t('common.reset')}</Button>
        <Button type="primary" onClick={save} loading={saving} data-testid="save-identity">
          {t('common.save')}
        </Button>
      </div>
      {failure && <Alert type="error" showIcon title={failure} data-testid="identity-error" />}

      <Card title={t('cdp.identity.types')}>
        <Typography.Paragraph type="secondary">{t('cdp.identity.typesHint')}</Typography.Paragraph>
        <Table<IdentifierType>
          rowKey="name"
          size="small"
          dataSource={draft.identifier_types}
          pagination={false}
          scroll={{ x: 'max-content' }}
          columns={[
            { key: 'name', title: t('common.apiName'), render: (_, i) => <Typography.Text code>{i.name}</Typography.Text> },
            {
              key: 'label',
              title: t('cdp.identity.label'),
              render: (_, i) =>
                BUILT_IN_IDENTIFIERS.includes(i.name) ? (
                  <Space>
                    {identifierLabel(i.name, draft)}
                    <Tag>{t('common.standard')}</Tag>
                  </Space>
                ) : (
                  <Space wrap>
                    <Input size="small" value={i.label_en ?? ''} onChange={(e) => setType(i.name, { label_en: e.target.value })} aria-label={t('common.labelEn')} placeholder={t('common.labelEn')} />
                    <Input size="small" value={i.label_zh ?? ''} onChange={(e) => setType(i.name, { label_zh: e.target.value })} aria-label={t('common.labelZh')} placeholder={t('common.labelZh')} />
                  </Space>
                ),
            },
            {
              key: 'merge',
              title: t('cdp.identity.merge'),
              render: (_, i) => (
                <Switch checked={i.merge} onChange={(merge) => setType(i.name, { merge })} aria-label={t('cdp.identity.mergeOf', { name: identifierLabel(i.name, draft) })} />
              ),
            },
            {
              key: 'actions',
              title: t('common.actions'),
              render: (_, i) =>
                BUILT_IN_IDENTIFIERS.includes(i.name) ? null : (
                  <Button
                    size="small"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t('common.remove')}
                    onClick={() => update({ identifier_types: draft.identifier_types.filter((x) => x.name !== i.name) })}
                  />
                ),
            },
          ]}
        />
        <Space wrap style={{ marginTop: 12 }}>
          <Input value={custom.name} onChange={(e) => setCustom({ ...custom, name: e.target.value })} placeholder="member_no" aria-label={t('cdp.identity.newTypeName')} />
          <Input value={custom.label_en} onChange={(e) => setCustom({ ...custom, label_en: e.target.value })} placeholder={t('common.labelEn')} aria-label={t('common.labelEn')} />
          <Input value={custom.label_zh} onChange={(e) => setCustom({ ...custom, label_zh: e.target.value })} placeholder={t('common.labelZh')} aria-label={t('common.labelZh')} />
          <Button icon={<PlusOutlined />} onClick={addType} disabled={!custom.name.trim()}>
            {t('cdp.identity.addType')}
          </Button>
        </Space>
      </Card>

      <Card title={t('cdp.identity.guard')}>
        <Form layout="vertical">
          <Form.Item label={t('cdp.identity.maxMerges')} extra={t('cdp.identity.maxMergesHint')}>
            <InputNumber min={1} precision={0} value={draft.max_merges_per_identifier} onChange={(v) => update({ max_merges_per_identifier: v ?? 1 })} />
          </Form.Item>
          <Form.Item label={t('cdp.identity.blocked')} extra={t('cdp.identity.blockedHint')}>
            <Select mode="tags" value={draft.blocked_values} onChange={(blocked_values) => update({ blocked_values })} tokenSeparators={[',', ' ']} open={false} suffixIcon={null} />
          </Form.Item>
          <Form.Item label={t('cdp.identity.phoneRegion')} extra={t('cdp.identity.phoneRegionHint')}>
            <Input value={draft.phone_region} maxLength={2} style={{ width: 80 }} onChange={(e) => update({ phone_region: e.target.value.toUpperCase() })} />
          </Form.Item>
        </Form>
      </Card>

      <MappingCard
        title={t('cdp.identity.contactMapping')}
        hint={t('cdp.identity.contactMappingHint')}
        object={objects.data?.find((o) => o.api_name === 'contact')}
        mapping={draft.contact_mapping}
        onChange={(contact_mapping) => update({ contact_mapping })}
      />
      <MappingCard
        title={t('cdp.identity.companyMapping')}
        hint={t('cdp.identity.companyMappingHint')}
        object={objects.data?.find((o) => o.api_name === 'company')}
        mapping={draft.company_mapping}
        onChange={(company_mapping) => update({ company_mapping })}
      />
    </Space>
  );
}

function MappingCard({
  title, hint, object, mapping, onChange,
}: {
  title: string;
  hint: string;
  object?: ObjectDef;
  mapping: Record<string, string>;
  onChange: (mapping: Record<string, string>) => void;
}) {
  const { t, label } = useI18n();
  const rows = Object.entries(mapping);
  const fields = (object?.fields ?? []).filter((f) => !f.archived_at && f.type !== 'formula' && f.type !== 'relation');
  const set = (index: number, trait: string, field: string) => {
    const next = rows.map((r, i) => (i === index ? [trait, field] : r));
    onChange(Object.fromEntries(next));
  };
  const [trait, setTrait] = useState('');
  return (
    <Card title={title}>
      <Typography.Paragraph type="secondary">{hint}</Typography.Paragraph>
      <Table<[string, string]>
        rowKey={(r) => r[0]}
        size="small"
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t('cdp.identity.noMapping') }}
        columns={[
          { key: 'trait', title: t('cdp.identity.trait'), render: (_, r) => <Typography.Text code>{r[0]}</Typography.Text> },
          {
            key: 'field',
            title: t('cdp.identity.field'),
            render: (_, r, index) => (
              <Select
                style={{ minWidth: 200 }}
                value={r[1]}
                showSearch={{ optionFilterProp: 'label' }}
                aria-label={t('cdp.identity.fieldFor', { trait: r[0] })}
                onChange={(field: string) => set(index, r[0], field)}
                options={fields.map((f) => ({ value: f.api_name, label: `${label(f.label)} (${f.api_name})` }))}
              />
            ),
          },
          {
            key: 'actions',
            title: t('common.actions'),
            render: (_, r) => (
              <Button size="small" danger icon={<DeleteOutlined />} aria-label={t('common.remove')} onClick={() => onChange(Object.fromEntries(rows.filter((x) => x[0] !== r[0])))} />
            ),
          },
        ]}
      />
      <Space wrap style={{ marginTop: 12 }}>
        <Input value={trait} onChange={(e) => setTrait(e.target.value)} placeholder={t('cdp.identity.trait')} aria-label={t('cdp.identity.newTrait')} />
        <Button
          icon={<PlusOutlined />}
          disabled={!trait.trim() || trait.trim() in mapping || fields.length === 0}
          onClick={() => {
            onChange({ ...mapping, [trait.trim()]: fields[0]?.api_name ?? '' });
            setTrait('');
          }}
        >
          {t('cdp.identity.addMapping')}
        </Button>
      </Space>
    </Card>
  );
}
