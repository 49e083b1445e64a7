// The semantic dictionary (administrators): each system's value mappings ("ERP · 商机 · 订单状态"),
// the values met in traffic that had none — each a click away from the editor prefilled with
// it (MapEditor) — the pairs of the mapping, and a box to try a translation (TranslateBox).
import { App, Button, Card, Empty, Space, Table, Tag, Tooltip, Typography, theme } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined, SwapRightOutlined, WarningOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import { useObjects } from '../../../api/queries';
import type { FieldDef } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../../app/PageState';
import { dictionaryKeys, useValueMaps, type MapEntry, type Unmapped, type ValueMap } from './api';
import { sortMaps, templateUsage } from './model';
import { CrmValue } from './CrmValue';
import { MapEditor } from './MapEditor';
import { TranslateBox } from './TranslateBox';

export default function DictionaryPage() {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const maps = useValueMaps();
  const objects = useObjects();
  const [editing, setEditing] = useState<{ map: ValueMap | null; missed?: Unmapped } | null>(null);

  const objectOf = (map: ValueMap) => objects.data?.find((o) => o.api_name === map.object);
  const fieldOf = (map: ValueMap) => objectOf(map)?.fields.find((f) => f.api_name === map.field);
  const title = (map: ValueMap) => [map.system, label(objectOf(map)?.label) || map.object, label(fieldOf(map)?.label) || map.field].join(' · ');

  const remove = (map: ValueMap) =>
    modal.confirm({
      title: t('dictionary.deleteConfirm', { name: title(map) }),
      content: t('dictionary.deleteHint'),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(apiPath`/api/v1/dictionary/${map.id}`);
          await client.invalidateQueries({ queryKey: dictionaryKeys.all });
          message.success(t('common.deleted'));
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const failed = maps.error ?? objects.error;
  if (failed) {
    return (
      <PageError
        error={failed}
        onRetry={() => {
          maps.refetch();
          objects.refetch();
        }}
      />
    );
  }
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 4, gap: 8, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('settings.dictionary')}
        </Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({ map: null })} disabled={!objects.data} data-testid="new-value-map">
          {t('dictionary.new')}
        </Button>
      </div>
      <Typography.Paragraph type="secondary">{t('dictionary.intro')}</Typography.Paragraph>
      <Typography.Paragraph type="secondary" data-testid="dictionary-usage">
        {t('dictionary.usageTemplate')} <Typography.Text code>{'{{record.order_status | map:ERP}}'}</Typography.Text>
        {t('dictionary.usageInbound')} <Typography.Text code>{'"/status | map:ERP"'}</Typography.Text>
        {t('dictionary.usageEnd')}
      </Typography.Paragraph>
      {maps.isLoading || objects.isLoading ? (
        <PageLoading />
      ) : !maps.data?.length ? (
        <Card>
          <Empty description={t('dictionary.empty')} />
        </Card>
      ) : (
        <Space orientation="vertical" size={16} style={{ width: '100%' }}>
          {sortMaps(maps.data).map((map) => (
            <Card
              key={map.id}
              size="small"
              data-testid="value-map"
              data-field={`${map.object}.${map.field}`}
              title={
                <Typography.Text strong data-testid="value-map-title" style={{ whiteSpace: 'normal' }}>
                  {title(map)}
                </Typography.Text>
              }
              extra={
                <Space size={4}>
                  <Tooltip title={t('common.edit')}>
                    <Button size="small" icon={<EditOutlined />} onClick={() => setEditing({ map })} aria-label={t('common.edit')} data-testid="value-map-edit" />
                  </Tooltip>
                  <Tooltip title={t('common.delete')}>
                    <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(map)} aria-label={t('common.delete')} data-testid="value-map-delete" />
                  </Tooltip>
                </Space>
              }
            >
              <MapBody map={map} field={fieldOf(map)} onAdd={(missed) => setEditing({ map, missed })} />
            </Card>
          ))}
        </Space>
      )}
      {editing && objects.data && <MapEditor map={editing.map} missed={editing.missed} objects={objects.data} onClose={() => setEditing(null)} />}
    </div>
  );
}

function MapBody({ map, field, onAdd }: { map: ValueMap; field: FieldDef | undefined; onAdd: (missed: Unmapped) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { token } = theme.useToken();
  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space size={[8, 0]} wrap>
        {map.description && <Typography.Text type="secondary">{map.description}</Typography.Text>}
        <Typography.Text type="secondary">{t('dictionary.inTemplates')}</Typography.Text>
        <Typography.Text code copyable>
          {templateUsage(map)}
        </Typography.Text>
      </Space>
      {map.unmapped.length > 0 && (
        <div data-testid="unmapped" style={{ border: `1px solid ${token.colorWarningBorder}`, background: token.colorWarningBg, borderRadius: token.borderRadius, padding: 8 }}>
          <Typography.Text strong style={{ display: 'block', marginBottom: 8 }}>
            <WarningOutlined style={{ color: token.colorWarning }} /> {t('dictionary.unmappedTitle', { count: i18n.number(map.unmapped.length) })}
          </Typography.Text>
          <Table<Unmapped>
            rowKey={(u) => `${u.direction}:${u.value}`}
            size="small"
            dataSource={map.unmapped}
            pagination={{ pageSize: 10, hideOnSinglePage: true }}
            scroll={{ x: 'max-content' }}
            columns={[
              {
                key: 'value',
                title: t('dictionary.value'),
                render: (_, u) => (u.direction === 'outbound' ? <CrmValue field={field} value={u.value} /> : <Typography.Text code>{u.value}</Typography.Text>),
              },
              {
                key: 'direction',
                title: t('dictionary.direction'),
                render: (_, u) => <Tag color={u.direction === 'outbound' ? 'blue' : 'purple'}>{t(`dictionary.direction.${u.direction}`)}</Tag>,
              },
              { key: 'count', title: t('dictionary.count'), render: (_, u) => i18n.number(u.count) },
              { key: 'lastSeen', title: t('dictionary.lastSeen'), render: (_, u) => <span style={{ whiteSpace: 'nowrap' }}>{i18n.dateTime(u.last_seen)}</span> },
              {
                key: 'where',
                title: t('dictionary.where'),
                render: (_, u) => (
                  <Typography.Text type="secondary" style={{ maxWidth: 220 }} ellipsis={{ tooltip: u.last_context }}>
                    {u.last_context}
                  </Typography.Text>
                ),
              },
              {
                key: 'actions',
                title: t('common.actions'),
                // At tablet width the other columns scroll under the action.
                fixed: 'right',
                render: (_, u) => (
                  <Button size="small" type="primary" ghost icon={<PlusOutlined />} onClick={() => onAdd(u)} data-testid="unmapped-add">
                    {t('dictionary.addForValue')}
                  </Button>
                ),
              },
            ]}
          />
        </div>
      )}
      <Table<MapEntry>
        rowKey="crm_value"
        size="small"
        dataSource={map.entries}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        data-testid="value-map-entries"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('dictionary.noEntries')} /> }}
        columns={[
          { key: 'crm', title: t('dictionary.crmValue'), render: (_, e) => <CrmValue field={field} value={e.crm_value} /> },
          { key: 'arrow', width: 32, render: () => <SwapRightOutlined aria-hidden /> },
          { key: 'code', title: t('dictionary.externalCode', { system: map.system }), render: (_, e) => <Typography.Text code>{e.external_code}</Typography.Text> },
        ]}
      />
      <TranslateBox map={map} field={field} />
    </Space>
  );
}
