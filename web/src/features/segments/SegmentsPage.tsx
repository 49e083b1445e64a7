// Segments (人群包): every saved segment with its tag, member count, state, when it was last
// evaluated and changed; administrators create new ones from here.
import { Button, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { api } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError } from '../../app/PageState';
import { useCdpAccess } from '../cdp/api';
import { segmentKeys, segmentPath, type Segment } from './api';
import { StateTag } from './StateTag';

export default function SegmentsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { isAdmin } = useCdpAccess();
  const navigate = useNavigate();
  const list = useQuery({ queryKey: segmentKeys.list, queryFn: () => api.get<Segment[]>(segmentPath()), refetchInterval: 15_000 });

  return (
    <div data-testid="segments">
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 16 }} wrap>
        <div>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {t('segments.title')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('segments.subtitle')}</Typography.Text>
        </div>
        {isAdmin && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/cdp/segments/new')} data-testid="new-segment">
            {t('segments.new')}
          </Button>
        )}
      </Space>
      {list.error ? (
        <PageError error={list.error} onRetry={() => list.refetch()} />
      ) : (
        <Table<Segment>
          rowKey="id"
          loading={list.isLoading}
          dataSource={list.data ?? []}
          pagination={{ pageSize: 50, hideOnSinglePage: true }}
          locale={{ emptyText: t('segments.empty') }}
          scroll={{ x: 'max-content' }}
          data-testid="segments-table"
          columns={[
            {
              key: 'name',
              title: t('common.name'),
              sorter: (a, b) => a.name.localeCompare(b.name),
              render: (_, s) => (
                <div>
                  <Link to={`/cdp/segments/${s.id}`}>{s.name}</Link>
                  {s.description && (
                    <Typography.Paragraph type="secondary" ellipsis={{ rows: 1 }} style={{ margin: 0, maxWidth: 360, fontSize: 12 }}>
                      {s.description}
                    </Typography.Paragraph>
                  )}
                </div>
              ),
            },
            { key: 'tag', title: t('segments.tag'), render: (_, s) => (s.tag ? <Tag color="blue">{s.tag}</Tag> : t('common.none')) },
            {
              key: 'members',
              title: t('segments.members.title'),
              align: 'right',
              sorter: (a, b) => a.member_count - b.member_count,
              render: (_, s) => <span data-testid="segment-members">{i18n.number(s.member_count)}</span>,
            },
            { key: 'state', title: t('segments.state'), render: (_, s) => <StateTag state={s.state} /> },
            { key: 'version', title: t('segments.version'), render: (_, s) => `v${s.version}` },
            {
              key: 'evaluated',
              title: t('segments.evaluatedAt'),
              render: (_, s) => (s.evaluated_at ? i18n.dateTime(s.evaluated_at) : t('common.none')),
            },
            {
              key: 'updated',
              title: t('common.updated'),
              sorter: (a, b) => a.updated_at.localeCompare(b.updated_at),
              defaultSortOrder: 'descend',
              render: (_, s) => i18n.dateTime(s.updated_at),
            },
          ]}
        />
      )}
    </div>
  );
}
