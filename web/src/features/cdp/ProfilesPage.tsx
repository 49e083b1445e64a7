// Customer profiles: find one by an identifier (type and value), or browse the most recent ones;
// each row shows the customer's identifiers, key traits and linked contact.
import { Button, Card, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError } from '../../app/PageState';
import { BUILT_IN_IDENTIFIERS, cdpKeys, cdpPath, useCdpAccess, type CdpSettings, type Profile, type ProfilePage } from './api';
import { profileTitle } from './model';
import { IdentifierTags, useIdentifierLabel } from './identifiers';

export default function ProfilesPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { isAdmin } = useCdpAccess();
  const identifierLabel = useIdentifierLabel();
  const settings = useQuery({
    queryKey: cdpKeys.settings,
    enabled: isAdmin,
    queryFn: () => api.get<CdpSettings>(cdpPath('/settings')),
  });
  const [search, setSearch] = useState<{ type: string; value: string } | null>(null);
  const [form] = Form.useForm<{ type: string; value: string }>();
  const list = useInfiniteQuery({
    queryKey: [...cdpKeys.profiles, search],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api.get<ProfilePage>(cdpPath('/profiles'), {
        identifier_type: search?.type,
        identifier: search?.value,
        limit: 25,
        before: pageParam,
      }),
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
  const profiles = list.data?.pages.flatMap((p) => p.profiles) ?? [];
  const types = settings.data?.identifier_types.map((i) => i.name) ?? BUILT_IN_IDENTIFIERS;

  return (
    <div data-testid="cdp-profiles">
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('cdp.profiles.title')}
      </Typography.Title>
      <Card style={{ marginBottom: 16 }}>
        <Form
          form={form}
          layout="inline"
          initialValues={{ type: 'email', value: '' }}
          onFinish={(v) => setSearch(v.value.trim() ? { type: v.type, value: v.value.trim() } : null)}
          style={{ rowGap: 8 }}
        >
          <Form.Item name="type" label={t('cdp.profiles.identifierType')}>
            <Select style={{ minWidth: 160 }} options={types.map((name) => ({ value: name, label: identifierLabel(name, settings.data) }))} />
          </Form.Item>
          <Form.Item name="value" label={t('cdp.profiles.identifier')}>
            <Input allowClear style={{ minWidth: 240 }} placeholder="li@example.com" />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                {t('common.search')}
              </Button>
              {search && (
                <Button
                  onClick={() => {
                    form.setFieldValue('value', '');
                    setSearch(null);
                  }}
                >
                  {t('cdp.profiles.showRecent')}
                </Button>
              )}
            </Space>
          </Form.Item>
        </Form>
      </Card>
      {list.error ? (
        <PageError error={list.error} onRetry={() => list.refetch()} />
      ) : (
        <>
          <Table<Profile>
            rowKey="id"
            loading={list.isLoading}
            dataSource={profiles}
            pagination={false}
            locale={{ emptyText: t(search ? 'cdp.profiles.notFound' : 'cdp.profiles.empty') }}
            scroll={{ x: 'max-content' }}
            title={() => <Typography.Text type="secondary">{t(search ? 'cdp.profiles.results' : 'cdp.profiles.recent')}</Typography.Text>}
            data-testid="profiles"
            columns={[
              {
                key: 'who',
                title: t('cdp.profiles.customer'),
                render: (_, p) => {
                  return <Link to={`/cdp/profiles/${p.id}`}>{profileTitle(p) ?? t('cdp.profiles.anonymous')}</Link>;
                },
              },
              { key: 'identifiers', title: t('cdp.profiles.identifiers'), render: (_, p) => <IdentifierTags identifiers={p.identifiers.slice(0, 4)} settings={settings.data} /> },
              {
                key: 'contact',
                title: t('cdp.profiles.contact'),
                render: (_, p) => (p.contact_id ? <Link to={`/o/contact/${p.contact_id}`}>{t('cdp.profiles.openContact')}</Link> : t('common.none')),
              },
              { key: 'merged', title: t('cdp.profiles.merged'), render: (_, p) => (p.merged_profiles.length ? <Tag>{i18n.number(p.merged_profiles.length)}</Tag> : t('common.none')) },
              { key: 'first', title: t('cdp.profiles.firstSeen'), render: (_, p) => i18n.dateTime(p.first_seen) },
            ]}
          />
          {list.hasNextPage && (
            <div style={{ textAlign: 'center', marginTop: 12 }}>
              <Button onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
                {t('common.loadMore')}
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
