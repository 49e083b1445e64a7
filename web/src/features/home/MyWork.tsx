// "My work", the top of the home page (and, for a team lead, their team's with one switch), with
// the records they opened last: what
// the signed-in salesperson has to do today — their open
// tasks due today or overdue (completed from here), their open deals that need attention (close
// date passed, or unchanged for a week), and their meetings of the next seven days. Each card
// links to the full list, filtered the same way (the list reads its filter from the URL).
import { Card, Col, Empty, List, Row, Segmented, Space, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, apiPath } from '../../api/client';
import { keys, useMe, useMyTeam, useObjects } from '../../api/queries';
import type { RecordBody, RecordList } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/errorMessage';
import { workspaceToday } from '../../app/workspaceDay';
import { TaskDoneButton } from '../records/TaskDoneButton';
import { recentRecords } from '../../app/recentRecords';
import { objectIcon } from '../../app/objectIcons';

type Leaf = { field: string; op: string; value?: unknown };
type Condition = Leaf | { all: Condition[] } | { any: Condition[] } | { not: Condition };

/** Whose work: one person (`eq`) or a team (`in`). */
function whose(field: string, people: string[]): Leaf {
  return people.length === 1 ? { field, op: 'eq', value: people[0] } : { field, op: 'in', value: people };
}

export function myTasksFilter(people: string[], today: string): Condition {
  return {
    all: [
      whose('assigned_to', people),
      { field: 'status', op: 'not_in', value: ['completed', 'deferred'] },
      { field: 'due_date', op: 'lte', value: today },
    ],
  };
}

export function dealsNeedingAttentionFilter(people: string[], today: string): Condition {
  return {
    all: [
      whose('owner_id', people),
      { field: 'stage', op: 'not_in', value: ['closed_won', 'closed_lost'] },
      {
        any: [
          { field: 'close_date', op: 'lt', value: today },
          { not: { field: 'updated_at', op: 'last_n_days', value: 7 } },
        ],
      },
    ],
  };
}

export function upcomingMeetingsFilter(people: string[]): Condition {
  return {
    all: [
      whose('owner_id', people),
      { field: 'type', op: 'eq', value: 'meeting' },
      { field: 'occurred_at', op: 'next_n_days', value: 7 },
    ],
  };
}

/** The list page of `object` showing the records `filter` selects. */
export function listLink(object: string, filter: Condition): string {
  return `/o/${object}?filter=${encodeURIComponent(JSON.stringify(filter))}`;
}

const LIMIT = 8;

function useMine(object: string, filter: Condition | null, sort: string, expand: string) {
  return useQuery({
    queryKey: [...keys.records(object), 'my-work', { filter, sort }],
    enabled: filter !== null,
    queryFn: ({ signal }) =>
      api.get<RecordList>(
        apiPath`/api/v1/objects/${object}/records`,
        { filter: JSON.stringify(filter), sort, limit: LIMIT, total: true, expand },
        signal,
      ),
  });
}

function linkedName(record: RecordBody, field: string): string | undefined {
  const linked = record.expanded?.[field] as RecordBody | undefined;
  return linked?.name ?? undefined;
}

/** One line of a card: the record's name as a link, its tags, what it is about, its actions. */
function WorkItem({ to, name, tags, about, actions }: { to: string; name: string | null | undefined; tags: React.ReactNode; about?: string; actions?: React.ReactNode[] }) {
  return (
    <List.Item actions={actions}>
      <List.Item.Meta
        title={<Link to={to}>{name}</Link>}
        description={
          <Space size={4} wrap>
            {tags}
            {about && <Typography.Text type="secondary">{about}</Typography.Text>}
          </Space>
        }
      />
    </List.Item>
  );
}

function WorkCard({
  title,
  testId,
  all,
  total,
  loading,
  error,
  empty,
  children,
}: {
  title: string;
  testId: string;
  all: string;
  total: number | undefined;
  loading: boolean;
  error: unknown;
  empty: string;
  children: React.ReactNode;
}) {
  const i18n = useI18n();
  return (
    <Card
      data-testid={testId}
      title={
        <Space>
          {title}
          {total !== undefined && <Tag>{i18n.number(total)}</Tag>}
        </Space>
      }
      extra={<Link to={all}>{i18n.t('myWork.seeAll')}</Link>}
      loading={loading}
      style={{ height: '100%' }}
    >
      {error ? <Typography.Text type="danger">{errorMessage(i18n, error)}</Typography.Text> : total === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={empty} /> : children}
    </Card>
  );
}

export default function MyWork() {
  const i18n = useI18n();
  const { t } = i18n;
  const me = useMe();
  const team = useMyTeam();
  const [scope, setScope] = useState<'mine' | 'team'>('mine');
  const userId = me.data?.user.id;
  const today = workspaceToday(me.data?.workspace.utc_offset_minutes ?? 0);
  // A team lead sees their team's work too, one switch away.
  const people = team.leads && scope === 'team' && team.members.length > 0 ? team.members : userId ? [userId] : [];
  const tasksFilter = people.length ? myTasksFilter(people, today) : null;
  const dealsFilter = people.length ? dealsNeedingAttentionFilter(people, today) : null;
  const meetingsFilter = people.length ? upcomingMeetingsFilter(people) : null;
  const tasks = useMine('task', tasksFilter, 'due_date', 'deal,company');
  const deals = useMine('deal', dealsFilter, 'close_date', 'company');
  const meetings = useMine('activity', meetingsFilter, 'occurred_at', 'deal,company');


  if (!userId || !tasksFilter || !dealsFilter || !meetingsFilter) return null;
  return (
    <>
    {team.leads && team.members.length > 0 && (
      <Segmented
        style={{ marginBottom: 12 }}
        value={scope}
        onChange={(v) => setScope(v as 'mine' | 'team')}
        data-testid="work-scope"
        options={[
          { value: 'mine', label: t('myWork.scopeMine') },
          { value: 'team', label: t('myWork.scopeTeam') },
        ]}
      />
    )}
    <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
      <Col xs={24} md={12} xl={6}>
        <WorkCard
          title={t('myWork.tasks')}
          testId="my-tasks"
          all={listLink('task', tasksFilter)}
          total={tasks.data?.total ?? undefined}
          loading={tasks.isLoading}
          error={tasks.error}
          empty={t('myWork.noTasks')}
        >
          <List
            size="small"
            dataSource={tasks.data?.data ?? []}
            renderItem={(task) => {
              const due = String(task.values.due_date ?? '');
              const overdue = due !== '' && due < today;
              const about = linkedName(task, 'deal') ?? linkedName(task, 'company');
              return (
                <WorkItem
                  to={`/o/task/${task.id}`}
                  name={task.name}
                  about={about}
                  tags={<Tag color={overdue ? 'red' : 'blue'}>{overdue ? t('myWork.overdue', { date: i18n.date(due) }) : t('myWork.dueToday')}</Tag>}
                  actions={[<TaskDoneButton key="done" task={task} />]}
                />
              );
            }}
          />
        </WorkCard>
      </Col>
      <Col xs={24} md={12} xl={6}>
        <WorkCard
          title={t('myWork.deals')}
          testId="my-deals"
          all={listLink('deal', dealsFilter)}
          total={deals.data?.total ?? undefined}
          loading={deals.isLoading}
          error={deals.error}
          empty={t('myWork.noDeals')}
        >
          <List
            size="small"
            dataSource={deals.data?.data ?? []}
            renderItem={(deal) => {
              const close = String(deal.values.close_date ?? '');
              const late = close !== '' && close < today;
              return (
                <WorkItem
                  to={`/o/deal/${deal.id}`}
                  name={deal.name}
                  about={linkedName(deal, 'company')}
                  tags={<Tag color={late ? 'red' : 'orange'}>{late ? t('myWork.closeDatePassed', { date: i18n.date(close) }) : t('myWork.quiet')}</Tag>}
                />
              );
            }}
          />
        </WorkCard>
      </Col>
      <Col xs={24} md={12} xl={6}>
        <WorkCard
          title={t('myWork.meetings')}
          testId="my-meetings"
          all={listLink('activity', meetingsFilter)}
          total={meetings.data?.total ?? undefined}
          loading={meetings.isLoading}
          error={meetings.error}
          empty={t('myWork.noMeetings')}
        >
          <List
            size="small"
            dataSource={meetings.data?.data ?? []}
            renderItem={(meeting) => {
              const about = linkedName(meeting, 'deal') ?? linkedName(meeting, 'company');
              const at = meeting.values.occurred_at;
              return (
                <WorkItem
                  to={`/o/activity/${meeting.id}`}
                  name={meeting.name}
                  about={about}
                  tags={typeof at === 'string' && <Tag>{i18n.dateTime(at)}</Tag>}
                />
              );
            }}
          />
        </WorkCard>
      </Col>
      <Col xs={24} md={12} xl={6}>
        <RecentCard userId={userId} />
      </Col>
    </Row>
    </>
  );
}

/** The records the user opened last, from this browser. */
function RecentCard({ userId }: { userId: string }) {
  const { t, label } = useI18n();
  const objects = useObjects();
  const recent = recentRecords(userId).filter((r) => objects.data?.some((o) => o.api_name === r.object && !o.archived_at));
  return (
    <Card title={t('myWork.recent')} data-testid="my-recent" style={{ height: '100%' }}>
      {recent.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('myWork.noRecent')} />
      ) : (
        <List
          size="small"
          dataSource={recent.slice(0, LIMIT)}
          renderItem={(r) => {
            const object = objects.data?.find((o) => o.api_name === r.object);
            return (
              <WorkItem
                to={`/o/${r.object}/${r.id}`}
                name={r.name ?? t('common.unnamedRecord')}
                tags={<span>{objectIcon(r.object)}</span>}
                about={object ? label(object.label) : undefined}
              />
            );
          }}
        />
      )}
    </Card>
  );
}
