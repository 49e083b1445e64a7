// One customer's profile: identifiers, traits, the linked contact and company, the merges that
// built it with their cause (identifier, message id, time) and an undo for administrators, and
// the customer's journey.
import { App, Button, Card, Col, Descriptions, Empty, Row, Space, Table, Tag, Typography } from 'antd';
import { RollbackOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, apiPath } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import JourneyTimeline from './JourneyTimeline';
import { cdpKeys, cdpPath, useCdpAccess, useInvalidateCdp, type CdpSettings, type Merge, type Profile } from './api';
import { profileTitle } from './model';
import { IdentifierTags, useIdentifierLabel } from './identifiers';

export default function ProfilePage() {
  const { id = '' } = useParams();
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const { isAdmin } = useCdpAccess();
  const invalidate = useInvalidateCdp();
  const identifierLabel = useIdentifierLabel();
  const profile = useQuery({ queryKey: cdpKeys.profile(id), queryFn: () => api.get<Profile>(cdpPath(apiPath`/profiles/${id}`)) });
  const settings = useQuery({ queryKey: cdpKeys.settings, enabled: isAdmin, queryFn: () => api.get<CdpSettings>(cdpPath('/settings')) });

  if (profile.isLoading) return <PageLoading />;
  if (profile.error || !profile.data) return <PageError error={profile.error} onRetry={() => profile.refetch()} />;
  const p = profile.data;
  const traits = Object.entries(p.traits as Record<string, unknown>);

  const undo = (merge: Merge) =>
    modal.confirm({
      title: t('cdp.profiles.undoConfirm'),
      content: t('cdp.profiles.undoHint', { value: merge.cause_value }),
      okButtonProps: { danger: true },
      okText: t('cdp.profiles.undo'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.post<Merge>(cdpPath(apiPath`/merges/${merge.id}/undo`));
          message.success(t('cdp.profiles.undone'));
          await invalidate();
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }} data-testid="cdp-profile">
      <Card>
        <Link to="/cdp/profiles">
          <Typography.Text type="secondary">{t('cdp.profiles.title')}</Typography.Text>
        </Link>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {profileTitle(p) ?? t('cdp.profiles.anonymous')}
        </Typography.Title>
        <Descriptions
          size="small"
          column={{ xs: 1, md: 2 }}
          style={{ marginTop: 12 }}
          items={[
            { key: 'identifiers', label: t('cdp.profiles.identifiers'), span: 2, children: <IdentifierTags identifiers={p.identifiers} settings={settings.data} /> },
            {
              key: 'contact',
              label: t('cdp.profiles.contact'),
              children: p.contact_id ? <Link to={`/o/contact/${p.contact_id}`}>{t('cdp.profiles.openContact')}</Link> : t('common.none'),
            },
            {
              key: 'company',
              label: t('cdp.profiles.company'),
              children: p.company_id ? <Link to={`/o/company/${p.company_id}`}>{t('cdp.profiles.openCompany')}</Link> : t('common.none'),
            },
            { key: 'first', label: t('cdp.profiles.firstSeen'), children: i18n.dateTime(p.first_seen) },
            { key: 'merged', label: t('cdp.profiles.merged'), children: i18n.number(p.merged_profiles.length) },
          ]}
        />
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={10}>
          <Space orientation="vertical" size="large" style={{ width: '100%' }}>
            <Card title={t('cdp.profiles.traits')}>
              {traits.length ? (
                <Descriptions
                  size="small"
                  column={1}
                  items={traits.map(([k, v]) => ({ key: k, label: k, children: typeof v === 'string' ? v : JSON.stringify(v) }))}
                />
              ) : (
                <Empty description={t('cdp.profiles.noTraits')} />
              )}
            </Card>
            <Card title={t('cdp.profiles.merges')}>
              <Table<Merge>
                rowKey="id"
                size="small"
                dataSource={p.merges}
                pagination={false}
                locale={{ emptyText: t('cdp.profiles.noMerges') }}
                scroll={{ x: 'max-content' }}
                data-testid="merges"
                columns={[
                  {
                    key: 'cause',
                    title: t('cdp.profiles.cause'),
                    render: (_, m) => (
                      <Tag>
                        {identifierLabel(m.cause_type, settings.data)}
                        {t('common.colon')}
                        {m.cause_value}
                      </Tag>
                    ),
                  },
                  {
                    key: 'message',
                    title: t('cdp.profiles.messageId'),
                    render: (_, m) => (m.message_id ? <Typography.Text code>{m.message_id}</Typography.Text> : t('common.none')),
                  },
                  { key: 'at', title: t('cdp.profiles.mergedAt'), render: (_, m) => i18n.dateTime(m.merged_at) },
                  {
                    key: 'actions',
                    title: t('common.actions'),
                    render: (_, m) =>
                      m.undone_at ? (
                        <Tag>{t('cdp.profiles.undoneAt', { when: i18n.dateTime(m.undone_at) })}</Tag>
                      ) : isAdmin ? (
                        <Button size="small" icon={<RollbackOutlined />} onClick={() => undo(m)}>
                          {t('cdp.profiles.undo')}
                        </Button>
                      ) : null,
                  },
                ]}
              />
            </Card>
          </Space>
        </Col>
        <Col xs={24} lg={14}>
          <Card title={t('cdp.journey.title')}>
            <JourneyTimeline profileId={p.id} />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
