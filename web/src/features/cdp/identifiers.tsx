// Identifiers of a profile as tags, one colour per type, labelled in the viewer's language
// (built-in types by the dictionary, custom ones by their labels in the identity settings).
import { Space, Tag } from 'antd';
import { useI18n, type MessageKey } from '../../i18n/I18nProvider';
import type { CdpSettings, Profile } from './api';

const COLORS: Record<string, string> = {
  user_id: 'blue',
  anonymous_id: 'default',
  email: 'cyan',
  phone: 'geekblue',
  wechat_openid: 'green',
  wechat_unionid: 'green',
  device_id: 'purple',
};

export function useIdentifierLabel() {
  const { t, label } = useI18n();
  return (name: string, settings?: CdpSettings) => {
    const key = `cdp.identifier.${name}` as MessageKey;
    if (t(key) !== key) return t(key);
    const custom = settings?.identifier_types.find((i) => i.name === name);
    if (custom?.label_en || custom?.label_zh) return label({ en: custom.label_en ?? '', zh: custom.label_zh ?? '' });
    return name;
  };
}

export function IdentifierTags({ identifiers, settings }: { identifiers: Profile['identifiers']; settings?: CdpSettings }) {
  const { t } = useI18n();
  const typeLabel = useIdentifierLabel();
  return (
    <Space wrap size={[0, 4]}>
      {identifiers.map((i) => (
        <Tag key={`${i.type}:${i.value}`} color={COLORS[i.type] ?? 'orange'}>
          <span style={{ opacity: 0.7 }}>
            {typeLabel(i.type, settings)}
            {t('common.colon')}
          </span>
          {i.value}
        </Tag>
      ))}
    </Space>
  );
}
