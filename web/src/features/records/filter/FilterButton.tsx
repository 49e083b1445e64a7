// The "filter" button of a list or a kanban, with its count of rules, and the drawer it opens:
// the visual builder (loaded when first opened) edits a draft of the filter, "apply" hands it
// to the page, "clear" empties the draft.
import { Badge, Button, Drawer, Space } from 'antd';
import { FilterOutlined } from '@ant-design/icons';
import { lazy, Suspense, useState } from 'react';
import { useI18n } from '../../../i18n/I18nProvider';
import { PageLoading } from '../../../app/PageState';
import { countRules, fromCondition, type FilterField, type Group } from './conditionModel';

const FilterBuilder = lazy(() => import('./FilterBuilder').then((m) => ({ default: m.FilterBuilder })));

export function FilterButton({ value, fields, onApply }: { value: Group; fields: FilterField[]; onApply: (filter: Group) => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState(value);
  return (
    <>
      <Badge count={countRules(value)} size="small">
        <Button
          icon={<FilterOutlined />}
          onClick={() => {
            setDraft(value);
            setOpen(true);
          }}
          data-testid="open-filter"
        >
          {t('list.filter')}
        </Button>
      </Badge>
      <Drawer
        open={open}
        onClose={() => setOpen(false)}
        title={t('filter.title')}
        size={720}
        extra={
          <Space>
            <Button onClick={() => setDraft(fromCondition(null))}>{t('filter.clear')}</Button>
            <Button
              type="primary"
              data-testid="apply-filter"
              onClick={() => {
                onApply(draft);
                setOpen(false);
              }}
            >
              {t('common.apply')}
            </Button>
          </Space>
        }
      >
        <Suspense fallback={<PageLoading />}>
          <FilterBuilder value={draft} onChange={setDraft} fields={fields} />
        </Suspense>
      </Drawer>
    </>
  );
}
