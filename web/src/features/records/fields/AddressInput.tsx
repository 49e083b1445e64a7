// An address: a region of the national list (any level) and the street, written as
// `{code, street}` (the server fills in the region's names), or null when both are empty.
import { Input } from 'antd';
import type { AddressValue } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { addressInput } from './address';
import { RegionCascader } from './RegionCascader';

interface Props {
  value?: unknown;
  onChange: (value: unknown) => void;
  id?: string;
  autoFocus?: boolean;
  onPressEnter?: () => void;
  'aria-label'?: string;
}

export function AddressInput({ value, onChange, id, autoFocus, onPressEnter, 'aria-label': ariaLabel }: Props) {
  const { t } = useI18n();
  const current = (value && typeof value === 'object' ? value : {}) as AddressValue;
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8 }}>
      <div style={{ flex: '1 1 220px' }}>
        <RegionCascader
          id={id}
          autoFocus={autoFocus}
          aria-label={`${ariaLabel ?? ''} ${t('field.region')}`.trim()}
          value={current.code}
          onChange={(code) => onChange(addressInput(typeof code === 'string' ? code : undefined, current.street))}
        />
      </div>
      <Input
        style={{ flex: '2 1 220px' }}
        aria-label={`${ariaLabel ?? ''} ${t('field.street')}`.trim()}
        placeholder={t('field.street')}
        maxLength={200}
        value={current.street ?? ''}
        onChange={(e) => onChange(addressInput(current.code, e.target.value))}
        onBlur={(e) => {
          const street = e.target.value;
          if (street !== street.trim()) onChange(addressInput(current.code, street.trim()));
        }}
        onPressEnter={onPressEnter}
      />
    </div>
  );
}
