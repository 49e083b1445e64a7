// Picks regions of the national list at any level (上海市, or 上海市 › 徐汇区): one for an address,
// several for an address filter ("in 上海市, 广东省 深圳市"). Values are region codes.
import { Cascader } from 'antd';
import type { Region } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { useRegions } from './useRegions';

const FIELD_NAMES = { label: 'name', value: 'code', children: 'children' } as const;

interface Props {
  value?: unknown;
  onChange: (value: string | string[] | null) => void;
  multiple?: boolean;
  id?: string;
  autoFocus?: boolean;
  'aria-label'?: string;
}

export function RegionCascader({ value, onChange, multiple, ...rest }: Props) {
  const { t } = useI18n();
  const regions = useRegions();
  const pathOf = (code: string) => regions.data?.index.get(code)?.path ?? [code];
  const common = {
    ...rest,
    style: { width: '100%' },
    options: regions.data?.regions,
    fieldNames: FIELD_NAMES,
    loading: regions.isLoading,
    placeholder: t('field.region'),
    showSearch: true,
  };
  if (multiple) {
    const codes = Array.isArray(value) ? (value as string[]) : [];
    return (
      <Cascader<Region, 'code'>
        {...common}
        multiple
        showCheckedStrategy={Cascader.SHOW_PARENT}
        value={codes.map(pathOf)}
        onChange={(paths) => onChange(paths.map((path) => String(path[path.length - 1])))}
      />
    );
  }
  return (
    <Cascader<Region, 'code'>
      {...common}
      changeOnSelect
      value={typeof value === 'string' && value ? pathOf(value) : undefined}
      displayRender={(labels) => labels.join(' ')}
      onChange={(path) => onChange(path && path.length > 0 ? String(path[path.length - 1]) : null)}
    />
  );
}
