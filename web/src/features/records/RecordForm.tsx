// The create / edit form of any object, generated from its metadata: fields arranged by the
// object's layout (fields missing from it come last), an input per field type, required marks,
// format and uniqueness checked as the user types (formChecks), and the server's validation
// errors shown on the fields they concern until the field is changed; a duplicate value links
// to the record that has it. Auto numbers are read-only: shown when editing, absent when creating.
import { App, Button, Col, Drawer, Form, Row, Space, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError, apiPath } from '../../api/client';
import { useInvalidateRecords, useMe } from '../../api/queries';
import type { FieldDef, ObjectDef, RecordBody } from '../../api/types';
import { useI18n, type MessageKey } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';
import { FieldInput } from './fields/FieldInput';
import { FieldValue } from './fields/FieldValue';
import { activeFields, isAssigned } from './viewState';
import { newRecordDefaults } from './newRecordDefaults';
import { workspaceToday } from '../../app/workspaceDay';
import { duplicateField, translateFieldError } from './fieldErrors';
import { CHECK_DELAY_MS, fieldRules, findDuplicate } from './formChecks';

export interface RecordFormProps {
  object: ObjectDef;
  open: boolean;
  onClose: () => void;
  /** The record to edit; a new record when absent. */
  record?: RecordBody;
  /** Values a new record starts with (e.g. the record it is logged against). */
  initialValues?: Record<string, unknown>;
  onSaved?: (record: RecordBody) => void;
  title?: string;
}

/** The form's sections: the layout's, then any other editable fields. */
export interface FormSection {
  /** A message key for sections Rapport adds; null for the layout's own sections. */
  label: MessageKey | null;
  labelObj?: { en: string; zh: string };
  fields: FieldDef[];
}

export function formSections(object: ObjectDef): FormSection[] {
  const editable = activeFields(object).filter((f) => f.type !== 'formula');
  const byName = new Map(editable.map((f) => [f.api_name, f]));
  const placed = new Set<string>();
  const sections: FormSection[] = (object.layout ?? []).map((section) => {
    const fields = section.fields.map((name) => byName.get(name)).filter((f): f is FieldDef => Boolean(f) && !placed.has(f!.api_name));
    fields.forEach((f) => placed.add(f.api_name));
    return { label: null, labelObj: section.label, fields };
  });
  const rest = editable.filter((f) => !placed.has(f.api_name));
  if (rest.length > 0) sections.push({ label: 'record.otherFields', fields: rest });
  return sections.filter((s) => s.fields.length > 0);
}

/** Field types whose input takes the form's whole width. */
const WIDE: FieldDef['type'][] = ['long_text', 'address', 'attachment'];

function empty(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

export function RecordForm({ object, open, onClose, record, initialValues, onSaved, title }: RecordFormProps) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const invalidate = useInvalidateRecords();
  // Records that already have a unique field's value, by field.
  const [duplicates, setDuplicates] = useState<Record<string, { id: string; name: string | null }>>({});
  const checks = useRef(new Map<string, { timer: ReturnType<typeof setTimeout>; abort: AbortController }>());
  const serverErrors = useRef(new Set<string>());

  const checkDuplicate = (field: FieldDef, value: unknown, delay: number) => {
    const previous = checks.current.get(field.api_name);
    if (previous) {
      clearTimeout(previous.timer);
      previous.abort.abort();
    }
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      const found = await findDuplicate(object.api_name, field, value, record?.id, abort.signal);
      if (abort.signal.aborted) return;
      setDuplicates((d) => {
        const { [field.api_name]: _gone, ...rest } = d;
        return found ? { ...rest, [field.api_name]: found } : rest;
      });
    }, delay);
    checks.current.set(field.api_name, { timer, abort });
  };
  const onValuesChange = (changed: Record<string, unknown>) => {
    for (const [name, value] of Object.entries(changed)) {
      // The server's error on a field goes as soon as the field is changed.
      if (serverErrors.current.delete(name)) form.setFields([{ name, errors: [] }]);
      const field = object.fields.find((f) => f.api_name === name);
      if (field?.unique) checkDuplicate(field, value, CHECK_DELAY_MS);
    }
  };
  useEffect(() => {
    const pending = checks.current;
    return () => pending.forEach((c) => {
      clearTimeout(c.timer);
      c.abort.abort();
    });
  }, []);

  const me = useMe();
  const userId = me.data?.user.id;
  const today = workspaceToday(me.data?.workspace.utc_offset_minutes ?? 0);
  useEffect(() => {
    if (open) {
      setDuplicates({});
      serverErrors.current.clear();
      form.resetFields();
      form.setFieldsValue(record ? record.values : { ...newRecordDefaults(object, userId, today), ...initialValues });
    }
  }, [open, record, initialValues, form, object, userId, today]);

  const submit = async () => {
    let values: Record<string, unknown>;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    try {
      let saved: RecordBody;
      if (record) {
        const changed: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(values)) {
          const before = record.values[key];
          const after = empty(value) ? null : value;
          if (JSON.stringify(empty(before) ? null : before) !== JSON.stringify(after)) changed[key] = after;
        }
        saved = await api.patch<RecordBody>(apiPath`/api/v1/objects/${object.api_name}/records/${record.id}`, {
          values: changed,
          version: record.version,
        });
        message.success(t('record.updated'));
      } else {
        const clean = Object.fromEntries(Object.entries(values).filter(([, v]) => !empty(v)));
        saved = await api.post<RecordBody>(apiPath`/api/v1/objects/${object.api_name}/records`, { values: clean });
        message.success(t('record.created', { object: label(object.label) }));
      }
      await invalidate(object.api_name);
      onSaved?.(saved);
      onClose();
    } catch (error) {
      const fieldErrors = error instanceof ApiError ? [...error.fieldErrors, ...duplicateField(error)] : [];
      if (fieldErrors.length > 0) {
        fieldErrors.forEach((e) => serverErrors.current.add(e.field));
        form.setFields(
          fieldErrors.map((e) => ({
            name: e.field,
            errors: [translateFieldError(i18n, e.code, e.message)],
          })),
        );
        // Which record has the value: the error links to it.
        for (const e of fieldErrors.filter((f) => f.code === 'duplicate_value')) {
          const field = object.fields.find((f) => f.api_name === e.field);
          if (field) checkDuplicate(field, form.getFieldValue(e.field), 0);
        }
        message.error(errorMessage(i18n, error));
      } else if (error instanceof ApiError && error.code === 'version_conflict') {
        message.warning(t('record.versionConflict'));
        await invalidate(object.api_name);
        onClose();
      } else {
        message.error(errorMessage(i18n, error));
      }
    } finally {
      setBusy(false);
    }
  };

  // A new record has no auto number yet: the server gives it.
  const sections = formSections(object)
    .map((s) => ({ ...s, fields: s.fields.filter((f) => record || !isAssigned(f)) }))
    .filter((s) => s.fields.length > 0);

  return (
    <Drawer
      open={open}
      onClose={onClose}
      size={640}
      title={title ?? (record ? `${t('common.edit')} · ${record.name ?? ''}` : t('list.new', { object: label(object.label) }))}
      destroyOnHidden
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={busy} onClick={submit} data-testid="record-form-save">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      <Form form={form} layout="vertical" onFinish={submit} onValuesChange={onValuesChange} data-testid="record-form">
        {sections.map((section, i) => (
          <section key={i}>
            <Typography.Title level={5} style={{ marginTop: i ? 16 : 0 }}>
              {section.labelObj ? label(section.labelObj) : t(section.label ?? 'record.otherFields')}
            </Typography.Title>
            <Row gutter={16}>
              {section.fields.map((field) => (
                <Col key={field.api_name} xs={24} md={WIDE.includes(field.type) ? 24 : 12}>
                  {isAssigned(field) ? (
                    // Given by the server when the record is created: read, never sent.
                    <Form.Item label={label(field.label)}>
                      <FieldValue field={field} value={record?.values[field.api_name]} />
                    </Form.Item>
                  ) : (
                    <Form.Item
                      name={field.api_name}
                      label={label(field.label)}
                      required={field.required}
                      rules={fieldRules(i18n, field)}
                      validateDebounce={CHECK_DELAY_MS}
                      valuePropName="value"
                      {...(duplicates[field.api_name] && {
                        validateStatus: 'error' as const,
                        help: (
                          <span data-testid="duplicate-of">
                            {t('form.duplicateOf')}
                            <Link to={`/o/${object.api_name}/${duplicates[field.api_name].id}`} onClick={onClose}>
                              {duplicates[field.api_name].name ?? t('common.unnamedRecord')}
                            </Link>
                          </span>
                        ),
                      })}
                    >
                      <FieldInput field={field} object={object.api_name} />
                    </Form.Item>
                  )}
                </Col>
              ))}
            </Row>
          </section>
        ))}
        <button type="submit" hidden />
      </Form>
    </Drawer>
  );
}
