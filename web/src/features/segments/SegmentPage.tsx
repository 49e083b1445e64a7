// One segment: its definition and counts, "re-evaluate now" (entered / exited / time taken), the
// members (paged, CSV download), the entry / exit history with causes, the definition's
// versions, and snapshots (take, download, push to a webhook, compare two).
import { Alert, App, Button, Card, Descriptions, Space, Table, Tabs, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, DownloadOutlined, EditOutlined, SyncOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, apiPath } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { useCdpAccess } from '../cdp/api';
import {
  segmentKeys, segmentPath, useInvalidateSegments, type Change, type ChangePage, type Evaluation, type Member, type MemberPage, type Segment, type Version,
} from './api';
import { useDescribeNames } from './fieldLabels';
import { MemberName, useMemberColumns } from './members';
import { describeCause, describeCondition } from './model';
import { SnapshotsPanel } from './SnapshotsPanel';
import { StateTag } from './StateTag';

const PAGE_SIZE = 50;

export default function SegmentPage() {
  const { id = '' } = useParams();
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const navigate = useNavigate();
  const { isAdmin } = useCdpAccess();
  const invalidate = useInvalidateSegments();
  const names = useDescribeNames();
  // Membership moves as events arrive: the counts refresh on their own.
  const segment = useQuery({ queryKey: segmentKeys.one(id), queryFn: () => api.get<Segment>(segmentPath(apiPath`/${id}`)), refetchInterval: 15_000 });
  const [evaluating, setEvaluating] = useState(false);
  const [evaluation, setEvaluation] = useState<Evaluation | null>(null);

  if (segment.isLoading) return <PageLoading />;
  if (segment.error || !segment.data) return <PageError error={segment.error} onRetry={() => segment.refetch()} />;
  const s = segment.data;
  const archived = s.state === 'archived';

  const evaluate = async () => {
    setEvaluating(true);
    try {
      const result = await api.post<Evaluation>(segmentPath(apiPath`/${id}/evaluate`));
      setEvaluation(result);
      await invalidate();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setEvaluating(false);
    }
  };

  const archive = () =>
    modal.confirm({
      title: t('segments.archiveConfirm', { name: s.name }),
      content: t('segments.archiveHint'),
      okButtonProps: { danger: true },
      okText: t('segments.archive'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(segmentPath(apiPath`/${id}`));
          message.success(t('segments.archived'));
          await invalidate();
          navigate('/cdp/segments');
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }} data-testid="segment-page">
      <Card>
        <Link to="/cdp/segments">
          <Typography.Text type="secondary">{t('segments.title')}</Typography.Text>
        </Link>
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'center' }}>
          <Typography.Title level={3} style={{ margin: 0, flex: '1 1 240px' }} data-testid="segment-title">
            {s.name} {s.tag && <Tag color="blue">{s.tag}</Tag>}
          </Typography.Title>
          <Space wrap>
            {isAdmin && !archived && (
              <Button icon={<EditOutlined />} onClick={() => navigate(`/cdp/segments/${id}/edit`)} data-testid="edit-segment">
                {t('common.edit')}
              </Button>
            )}
            {isAdmin && !archived && (
              <Button icon={<SyncOutlined />} loading={evaluating} onClick={evaluate} data-testid="evaluate-segment">
                {t('segments.evaluate')}
              </Button>
            )}
            <Button icon={<DownloadOutlined />} href={segmentPath(apiPath`/${id}/members.csv`)} download data-testid="segment-csv">
              {t('segments.downloadCsv')}
            </Button>
            {isAdmin && !archived && (
              <Tooltip title={t('segments.archive')}>
                <Button danger icon={<DeleteOutlined />} onClick={archive} aria-label={t('segments.archive')} data-testid="archive-segment" />
              </Tooltip>
            )}
          </Space>
        </div>
        {s.description && <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>{s.description}</Typography.Paragraph>}
        {evaluation && (
          <Alert
            type="success"
            showIcon
            closable={{ onClose: () => setEvaluation(null) }}
            style={{ marginTop: 12 }}
            data-testid="evaluate-result"
            title={t('segments.evaluated', {
              members: i18n.number(evaluation.members),
              entered: i18n.number(evaluation.entered),
              exited: i18n.number(evaluation.exited),
              ms: i18n.number(evaluation.took_ms),
            })}
          />
        )}
        <Descriptions
          size="small"
          column={{ xs: 1, md: 2, xl: 4 }}
          style={{ marginTop: 12 }}
          items={[
            { key: 'members', label: t('segments.members.title'), children: <span data-testid="segment-member-count">{i18n.number(s.member_count)}</span> },
            { key: 'state', label: t('segments.state'), children: <StateTag state={s.state} /> },
            { key: 'version', label: t('segments.version'), children: `v${s.version}` },
            { key: 'evaluated', label: t('segments.evaluatedAt'), children: s.evaluated_at ? i18n.dateTime(s.evaluated_at) : t('common.none') },
          ]}
        />
        <div style={{ marginTop: 8 }} data-testid="segment-definition">
          {describeCondition(t, s.condition, names).map((line, i) => (
            <div key={i} style={{ whiteSpace: 'pre-wrap', fontFamily: 'inherit' }}>
              {line}
            </div>
          ))}
        </div>
      </Card>
      <Card>
        <Tabs
          items={[
            { key: 'members', label: t('segments.members.title'), children: <MembersTable id={id} /> },
            { key: 'history', label: t('segments.history.title'), children: <ChangesTable id={id} /> },
            { key: 'versions', label: t('segments.versions.title'), children: <VersionsTable id={id} /> },
            { key: 'snapshots', label: t('segments.snapshots.title'), children: <SnapshotsPanel segment={s} /> },
          ]}
        />
      </Card>
    </Space>
  );
}

function MembersTable({ id }: { id: string }) {
  const { t } = useI18n();
  const columns = useMemberColumns({ version: true });
  const members = useInfiniteQuery({
    queryKey: segmentKeys.members(id),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => api.get<MemberPage>(segmentPath(apiPath`/${id}/members`), { limit: PAGE_SIZE, cursor: pageParam }, signal),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = members.data?.pages.flatMap((p) => p.items) ?? [];
  if (members.error) return <PageError error={members.error} onRetry={() => members.refetch()} />;
  return (
    <>
      <Table<Member>
        size="small"
        rowKey="profile_id"
        loading={members.isLoading}
        dataSource={rows}
        pagination={false}
        columns={columns}
        locale={{ emptyText: t('segments.members.empty') }}
        scroll={{ x: 'max-content' }}
        data-testid="segment-members-table"
      />
      {members.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => members.fetchNextPage()} loading={members.isFetchingNextPage} data-testid="members-more">
            {t('common.loadMore')}
          </Button>
        </div>
      )}
    </>
  );
}

function ChangesTable({ id }: { id: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const names = useDescribeNames();
  const changes = useInfiniteQuery({
    queryKey: segmentKeys.changes(id),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => api.get<ChangePage>(segmentPath(apiPath`/${id}/changes`), { limit: PAGE_SIZE, cursor: pageParam }, signal),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = changes.data?.pages.flatMap((p) => p.items) ?? [];
  if (changes.error) return <PageError error={changes.error} onRetry={() => changes.refetch()} />;
  return (
    <>
      <Table<Change>
        size="small"
        rowKey="seq"
        loading={changes.isLoading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t('segments.history.empty') }}
        scroll={{ x: 'max-content' }}
        data-testid="segment-changes"
        columns={[
          {
            key: 'change',
            title: t('segments.history.change'),
            render: (_, c) => (
              <Tag color={c.change === 'entered' ? 'green' : c.change === 'exited' ? 'red' : 'default'} data-change={c.change}>
                {c.change === 'entered' ? t('segments.history.entered') : c.change === 'exited' ? t('segments.history.exited') : c.change}
              </Tag>
            ),
          },
          {
            key: 'who',
            title: t('segments.members.customer'),
            render: (_, c) => <MemberName member={c.customer} />,
          },
          { key: 'at', title: t('segments.history.at'), render: (_, c) => i18n.dateTime(c.at) },
          { key: 'cause', title: t('segments.history.cause'), render: (_, c) => <span data-testid="change-cause">{describeCause(t, c.cause, names.event)}</span> },
          { key: 'version', title: t('segments.version'), render: (_, c) => `v${c.version}` },
        ]}
      />
      {changes.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => changes.fetchNextPage()} loading={changes.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        </div>
      )}
    </>
  );
}

function VersionsTable({ id }: { id: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const names = useDescribeNames();
  const versions = useQuery({ queryKey: segmentKeys.versions(id), queryFn: () => api.get<Version[]>(segmentPath(apiPath`/${id}/versions`)) });
  if (versions.error) return <PageError error={versions.error} onRetry={() => versions.refetch()} />;
  return (
    <Table<Version>
      size="small"
      rowKey="version"
      loading={versions.isLoading}
      dataSource={[...(versions.data ?? [])].sort((a, b) => b.version - a.version)}
      pagination={false}
      scroll={{ x: 'max-content' }}
      data-testid="segment-versions"
      columns={[
        { key: 'version', title: t('segments.version'), render: (_, v) => <Tag>v{v.version}</Tag> },
        { key: 'at', title: t('segments.versions.createdAt'), render: (_, v) => i18n.dateTime(v.created_at) },
        {
          key: 'condition',
          title: t('segments.versions.condition'),
          render: (_, v) => (
            <div style={{ maxWidth: 640 }}>
              {describeCondition(t, v.condition, names).map((line, i) => (
                <div key={i} style={{ whiteSpace: 'pre-wrap' }}>
                  {line}
                </div>
              ))}
            </div>
          ),
        },
      ]}
    />
  );
}
