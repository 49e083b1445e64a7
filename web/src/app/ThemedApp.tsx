// Ant Design's theme and locale (zh-CN or en-US, with dayjs to match) around the routes.
import { App as AntApp, ConfigProvider } from 'antd';
// The ES modules: `antd/locale/*` are CommonJS copies that would bundle a second en_US.
import zhCN from 'antd/es/locale/zh_CN';
import enUS from 'antd/es/locale/en_US';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { useEffect } from 'react';
import { useI18n } from '../i18n/I18nProvider';
import { AppRoutes } from './routes';

export function ThemedApp() {
  const { locale } = useI18n();
  useEffect(() => {
    dayjs.locale(locale === 'en' ? 'en' : 'zh-cn');
    document.documentElement.lang = locale;
  }, [locale]);
  return (
    <ConfigProvider
      locale={locale === 'en' ? enUS : zhCN}
      theme={{ token: { colorPrimary: '#1f6feb', borderRadius: 6 } }}
    >
      <AntApp>
        <AppRoutes />
      </AntApp>
    </ConfigProvider>
  );
}
