// Global search (Ctrl/⌘+K): names, emails and phones across every object the user may read,
// as they type; arrow keys move, Enter opens, Escape closes.
import { Empty, Input, Modal, Spin, Typography } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../../api/client';
import { useObjects } from '../../api/queries';
import type { SearchHit } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { objectIcon } from '../../app/objectIcons';

export default function SearchPalette({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  const objects = useObjects();
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
  const objectLabel = (name: string) => label(objects.data?.find((o) => o.api_name === name)?.label) || name;

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
              {objectIcon(hit.object)}
              <span style={{ flex: 1 }}>{hit.name}</span>
              <Typography.Text type="secondary">{objectLabel(hit.object)}</Typography.Text>
            </li>
          ))}
        </ul>
      </div>
    </Modal>
  );
}
