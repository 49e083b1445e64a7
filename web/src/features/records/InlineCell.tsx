// A table cell that edits in place: double-click or the pencil button to edit, Enter or the tick to save,
// Escape to cancel. Saves one field with the record's version, so a concurrent change is
// refused rather than overwritten.
import { Button, Space } from 'antd';
import { CheckOutlined, CloseOutlined, EditOutlined } from '@ant-design/icons';
import { useState, type KeyboardEvent } from 'react';
import type { FieldDef, RecordBody, User } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { LazyFieldInput } from './fields/LazyFieldInput';
import { FieldValue } from './fields/FieldValue';
import { useRecordPatch } from './useRecordPatch';
import { isAssigned } from './viewState';

interface Props {
  object: string;
  field: FieldDef;
  record: RecordBody;
  users?: User[];
}

export function InlineCell({ object, field, record, users }: Props) {
  const i18n = useI18n();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<unknown>(null);
  const { patch, busy } = useRecordPatch();
  const value = record.values[field.api_name];
  const editable = field.type !== 'formula' && !isAssigned(field);

  const start = () => {
    if (!editable) return;
    setDraft(value ?? null);
    setEditing(true);
  };
  const save = async () => {
    if (await patch(object, record, { [field.api_name]: draft === '' ? null : draft })) setEditing(false);
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') setEditing(false);
  };

  if (editing) {
    return (
      <div onKeyDown={onKey} style={{ display: 'flex', gap: 4, alignItems: 'center', minWidth: 200 }} onClick={(e) => e.stopPropagation()}>
        <div style={{ flex: 1 }}>
          <LazyFieldInput field={field} object={object} value={draft} onChange={setDraft} autoFocus onPressEnter={save} />
        </div>
        <Space.Compact>
          <Button size="small" type="primary" icon={<CheckOutlined />} loading={busy === record.id} onClick={save} aria-label={i18n.t('common.save')} />
          <Button size="small" icon={<CloseOutlined />} onClick={() => setEditing(false)} aria-label={i18n.t('common.cancel')} />
        </Space.Compact>
      </div>
    );
  }
  return (
    <div className="inline-cell" onDoubleClick={start}>
      <FieldValue field={field} value={value} record={record} users={users} />
      {editable && (
        // A plain button: a list renders one per cell, and Ant Design's Button costs more per copy.
        <button
          type="button"
          className="inline-cell-edit"
          onClick={(e) => {
            e.stopPropagation();
            start();
          }}
          aria-label={`${i18n.t('common.edit')} ${i18n.label(field.label)}`}
          title={i18n.t('list.inlineEdit')}
        >
          <EditOutlined />
        </button>
      )}
    </div>
  );
}
