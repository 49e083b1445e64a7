// "See all results" of the global search: up to 50 hits per object for the words in the URL
// (`/search?q=…`), grouped by object, each told apart by its matched value, company and owner.
import { Card, Empty, Input, List, Space, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { useObjects } from '../../api/queries';
import type { SearchHit } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError } from '../../app/PageState';
import { SearchHitLine } from './SearchHitLine';

export default function SearchPage() {
  const { t, label } = useI18n();
  const objects = useObjects();
  const [params, setParams] = useSearchParams();
  const q = (params.get('q') ?? '').trim();
  const hits = useQuery({
    queryKey: ['search', q, 'all'],
    enabled: q.length > 0,
    queryFn: ({ signal }) => api.get<SearchHit[]>('/api/v1/search', { q, limit: 50 }, signal),
  });
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits.data ?? []) groups.set(hit.object, [...(groups.get(hit.object) ?? []), hit]);
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }} data-testid="search-page">
      <Typography.Title level={4} style={{ margin: 0 }}>{t('search.allResults')}</Typography.Title>
      <Input.Search
        defaultValue={q}
        allowClear
        enterButton
        aria-label={t('nav.search')}
        onSearch={(value) => setParams(value.trim() ? { q: value.trim() } : {})}
        style={{ maxWidth: 480 }}
      />
      {hits.error ? (
        <PageError error={hits.error} onRetry={() => hits.refetch()} />
      ) : q && !hits.isLoading && groups.size === 0 ? (
        <Empty description={t('search.noResults')} />
      ) : (
        [...groups].map(([object, list]) => {
          const def = objects.data?.find((o) => o.api_name === object);
          return (
            <Card key={object} size="small" title={`${def ? label(def.plural_label) : object} (${list.length})`} loading={hits.isLoading}>
              <List
                size="small"
                dataSource={list}
                renderItem={(hit) => (
                  <List.Item>
                    <Link to={`/o/${hit.object}/${hit.id}`} style={{ display: 'flex', gap: 8, alignItems: 'center', width: '100%', color: 'inherit' }}>
                      <SearchHitLine hit={hit} />
                    </Link>
                  </List.Item>
                )}
              />
            </Card>
          );
        })
      )}
    </Space>
  );
}
