// A table cell that edits in place: double-click or the pencil button to edit, Enter or the tick to save,
// Escape to cancel. Saves one field with the record's version, so a concurrent change is
// refused rather than overwritten.
import { App, Button, Space } from 'antd';
import { CheckOutlined, CloseOutlined, EditOutlined } from '@ant-design/icons';
import { useState, type KeyboardEvent } from 'react';
import { api, ApiError, apiPath } from '../../api/client';
import { useInvalidateRecords } from '../../api/queries';
import type { FieldDef, RecordBody, User } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';
import { LazyFieldInput } from './fields/LazyFieldInput';
import { FieldValue } from './fields/FieldValue';
import { duplicateField, translateFieldError } from './fieldErrors';

interface Props {
  object: string;
  field: FieldDef;
  record: RecordBody;
  users?: User[];
}

export function InlineCell({ object, field, record, users }: Props) {
  const i18n = useI18n();
  const { message } = App.useApp();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const invalidate = useInvalidateRecords();
  const value = record.values[field.api_name];
  const editable = field.type !== 'formula';

  const start = () => {
    if (!editable) return;
    setDraft(value ?? null);
    setEditing(true);
  };
  const save = async () => {
    setBusy(true);
    try {
      await api.patch(apiPath`/api/v1/objects/${object}/records/${record.id}`, {
        values: { [field.api_name]: draft === '' ? null : draft },
        version: record.version,
      });
      setEditing(false);
      await invalidate(object);
    } catch (error) {
      const fieldError = error instanceof ApiError ? [...error.fieldErrors, ...duplicateField(error)][0] : undefined;
      message.error(fieldError ? translateFieldError(i18n, fieldError.code, fieldError.message) : errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') setEditing(false);
  };

  if (editing) {
    return (
      <div onKeyDown={onKey} style={{ display: 'flex', gap: 4, alignItems: 'center', minWidth: 200 }} onClick={(e) => e.stopPropagation()}>
        <div style={{ flex: 1 }}>
          <LazyFieldInput field={field} value={draft} onChange={setDraft} autoFocus onPressEnter={save} />
        </div>
        <Space.Compact>
          <Button size="small" type="primary" icon={<CheckOutlined />} loading={busy} onClick={save} aria-label={i18n.t('common.save')} />
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
