// The tick that completes an open task, wherever a task is shown: the home page, a record's
// timeline, the task list.
import { Button, Tooltip } from 'antd';
import { CheckOutlined } from '@ant-design/icons';
import type { RecordBody } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { TASK_DONE, useRecordPatch } from './useRecordPatch';

export function TaskDoneButton({ task }: { task: RecordBody }) {
  const { t } = useI18n();
  const { patch, busy } = useRecordPatch();
  return (
    <Tooltip title={t('myWork.complete')}>
      <Button
        size="small"
        icon={<CheckOutlined />}
        aria-label={t('myWork.complete')}
        data-testid="complete-task"
        loading={busy === task.id}
        onClick={(e) => {
          e.stopPropagation();
          void patch('task', task, { status: TASK_DONE }, t('myWork.completed', { title: task.name ?? '' }));
        }}
      />
    </Tooltip>
  );
}
