// Global search (Ctrl/⌘+K): names, emails, phones and searchable fields across every object the
// user may read, as they type, each hit told apart by its matched value, company and owner;
// arrow keys move, Enter opens, Escape closes; "see all results" opens the search page.
import { Button, Empty, Input, Modal, Spin, Typography } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../../api/client';
import type { SearchHit } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { SearchHitLine } from './SearchHitLine';

export default function SearchPalette({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), 200);
    return () => clearTimeout(timer);
  }, [text]);
  const hits = useQuery({
    queryKey: ['search', query],
    enabled: query.length > 0,
    queryFn: ({ signal }) => api.get<SearchHit[]>('/api/v1/search', { q: query, limit: 5 }, signal),
  });
  const results = hits.data ?? [];
  useEffect(() => setActive(0), [query]);

  const open_ = (hit: SearchHit) => {
    onClose();
    navigate(`/o/${hit.object}/${hit.id}`);
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((i) => Math.min(i + 1, results.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === 'Enter' && results[active]) {
      open_(results[active]);
    }
  };

  return (
    <Modal open={open} onCancel={onClose} footer={null} closable={false} title={null} width={600} destroyOnHidden>
      <Input
        size="large"
        autoFocus
        prefix={<SearchOutlined />}
        placeholder={t('search.placeholder')}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        aria-label={t('nav.search')}
        role="combobox"
        aria-expanded={results.length > 0}
        aria-controls="search-results"
        aria-activedescendant={results[active] ? `hit-${active}` : undefined}
      />
      <div style={{ marginTop: 12, minHeight: 80 }}>
        {!query && <Typography.Text type="secondary">{t('search.hint')}</Typography.Text>}
        {hits.isFetching && <Spin />}
        {query && !hits.isFetching && results.length === 0 && <Empty description={t('search.noResults')} image={Empty.PRESENTED_IMAGE_SIMPLE} />}
        <ul id="search-results" role="listbox" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {results.map((hit, i) => (
            <li
              key={`${hit.object}-${hit.id}`}
              id={`hit-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseEnter={() => setActive(i)}
              onClick={() => open_(hit)}
              style={{
                padding: '8px 12px',
                borderRadius: 6,
                cursor: 'pointer',
                background: i === active ? '#e6f0ff' : undefined,
                display: 'flex',
                gap: 8,
                alignItems: 'center',
              }}
            >
              <SearchHitLine hit={hit} />
            </li>
          ))}
        </ul>
        {query && results.length > 0 && (
          <Button
            type="link"
            onClick={() => {
              onClose();
              navigate(`/search?q=${encodeURIComponent(query)}`);
            }}
            data-testid="search-all"
          >
            {t('search.seeAll')}
          </Button>
        )}
      </div>
    </Modal>
  );
}
