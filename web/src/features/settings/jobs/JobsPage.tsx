// The job queue (administrators): the workspace's queues with their jobs counted by state, the
// jobs newest first (filtered by queue and state, loaded 50 at a time), and a drawer with one
// job's payload, attempts and errors and its retry / cancel / discard buttons.
import { Button, Empty, Select, Space, Table, Tag, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useI18n } from '../../../i18n/I18nProvider';
import { PageError } from '../../../app/PageState';
import { useJobs, useQueues, type Job, type JobState, type QueueCounts } from './api';
import { JOB_STATES, STATE_COLOR, stateLabel } from './model';
import JobDrawer from './JobDrawer';

export default function JobsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [queue, setQueue] = useState<string | undefined>();
  const [state, setState] = useState<JobState | undefined>();
  const [open, setOpen] = useState<string | null>(null);
  const queues = useQueues();
  const jobs = useJobs({ queue, state });
  const error = queues.error ?? jobs.error;
  if (error) {
    return <PageError error={error} onRetry={() => { queues.refetch(); jobs.refetch(); }} />;
  }
  const rows = jobs.data?.pages.flatMap((p) => p.jobs) ?? [];
  const count = (q: QueueCounts, s: JobState) => q[s];
  return (
    <div>
      <div style={{ display: 'flex', alignItems: 'center', gap: 8, marginBottom: 8, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>{t('settings.jobs')}</Typography.Title>
        <Button icon={<ReloadOutlined />} onClick={() => { queues.refetch(); jobs.refetch(); }}>{t('jobs.refresh')}</Button>
      </div>
      <Typography.Paragraph type="secondary">{t('jobs.intro')}</Typography.Paragraph>
      <Table<QueueCounts>
        rowKey="queue"
        size="small"
        loading={queues.isLoading}
        dataSource={queues.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('jobs.noQueues')} /> }}
        style={{ marginBottom: 16 }}
        aria-label={t('jobs.queues')}
        onRow={(q) => ({ onClick: () => setQueue(q.queue), style: { cursor: 'pointer' } })}
        columns={[
          { key: 'queue', title: t('jobs.queue'), render: (_, q) => <Typography.Text code>{q.queue}</Typography.Text> },
          ...JOB_STATES.map((s) => ({
            key: s,
            title: t(stateLabel(s)),
            align: 'right' as const,
            render: (_: unknown, q: QueueCounts) => {
              const n = count(q, s);
              return n > 0 && (s === 'dead' || s === 'failed') ? <Tag color={STATE_COLOR[s]}>{n}</Tag> : n;
            },
          })),
        ]}
      />
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          allowClear
          style={{ minWidth: 180 }}
          placeholder={t('jobs.allQueues')}
          aria-label={t('jobs.queue')}
          value={queue}
          onChange={setQueue}
          options={(queues.data ?? []).map((q) => ({ value: q.queue, label: q.queue }))}
        />
        <Select
          allowClear
          style={{ minWidth: 180 }}
          placeholder={t('jobs.allStates')}
          aria-label={t('jobs.state')}
          value={state}
          onChange={setState}
          options={JOB_STATES.map((s) => ({ value: s, label: t(stateLabel(s)) }))}
        />
      </Space>
      <Table<Job>
        rowKey="id"
        size="small"
        loading={jobs.isLoading}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('jobs.empty')} /> }}
        onRow={(j) => ({ onClick: () => setOpen(j.id), style: { cursor: 'pointer' } })}
        columns={[
          { key: 'created', title: t('jobs.created'), render: (_, j) => i18n.dateTime(j.created_at) },
          { key: 'queue', title: t('jobs.queue'), render: (_, j) => <Typography.Text code>{j.queue}</Typography.Text> },
          { key: 'kind', title: t('jobs.kind'), dataIndex: 'kind' },
          { key: 'state', title: t('jobs.state'), render: (_, j) => <Tag color={STATE_COLOR[j.state]}>{t(stateLabel(j.state))}</Tag> },
          { key: 'attempts', title: t('jobs.attempts'), align: 'right', render: (_, j) => `${j.attempts} / ${j.max_attempts}` },
          {
            key: 'error',
            title: t('jobs.lastError'),
            render: (_, j) => (
              <Typography.Text type="danger" ellipsis={{ tooltip: j.last_error }} style={{ maxWidth: 320 }}>
                {j.last_error ?? ''}
              </Typography.Text>
            ),
          },
          {
            key: 'open',
            title: t('common.actions'),
            render: (_, j) => <Button size="small" onClick={(e) => { e.stopPropagation(); setOpen(j.id); }}>{t('jobs.details')}</Button>,
          },
        ]}
      />
      {jobs.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button loading={jobs.isFetchingNextPage} onClick={() => jobs.fetchNextPage()}>{t('common.loadMore')}</Button>
        </div>
      )}
      <JobDrawer id={open} onClose={() => setOpen(null)} />
    </div>
  );
}
