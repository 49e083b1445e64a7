// Changes some fields of one record from anywhere in the app (a cell, a stage of the path, a
// task's tick): sent with the record's version, so a concurrent change is refused rather than
// overwritten; the record's queries are refreshed and a refusal is shown in the user's words.
import { App } from 'antd';
import { useState } from 'react';
import { api, ApiError, apiPath } from '../../api/client';
import { useInvalidateRecords } from '../../api/queries';
import type { RecordBody } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';
import { duplicateField, translateFieldError } from './fieldErrors';

export function useRecordPatch() {
  const i18n = useI18n();
  const { message } = App.useApp();
  const invalidate = useInvalidateRecords();
  const [busy, setBusy] = useState<string | null>(null);

  // Resolves true when saved; a refusal has been shown to the user when it resolves false.
  const patch = async (object: string, record: RecordBody, values: Record<string, unknown>, success?: string): Promise<boolean> => {
    setBusy(record.id);
    try {
      await api.patch(apiPath`/api/v1/objects/${object}/records/${record.id}`, { values, version: record.version });
      if (success) message.success(success);
      await invalidate(object);
      return true;
    } catch (error) {
      const fieldError = error instanceof ApiError ? [...error.fieldErrors, ...duplicateField(error)][0] : undefined;
      message.error(fieldError ? translateFieldError(i18n, fieldError.code, fieldError.message) : errorMessage(i18n, error));
      return false;
    } finally {
      setBusy(null);
    }
  };
  return { patch, busy };
}

// A task is done when its status is `completed`.
export const TASK_DONE = 'completed';

export function isOpenTask(record: RecordBody): boolean {
  return record.object === 'task' && record.values.status !== TASK_DONE;
}
