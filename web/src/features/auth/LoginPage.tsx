// Log in with email and password. The server sets an HttpOnly session cookie, so the session
// survives a reload; afterwards the user returns to the page they asked for.
import { Alert, Button, Card, Form, Input, Segmented, Typography } from 'antd';
import { LockOutlined, MailOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../../api/client';
import { keys } from '../../api/queries';
import type { MeResponse } from '../../api/types';
import { useI18n, type Locale } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';

interface Credentials {
  email: string;
  password: string;
}

export default function LoginPage() {
  const i18n = useI18n();
  const { t, locale, setLocale } = i18n;
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const client = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (values: Credentials) => {
    setBusy(true);
    setError(null);
    try {
      const me = await api.post<MeResponse>('/api/v1/auth/login', values);
      client.setQueryData(keys.me, me);
      const next = params.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError(t('auth.invalid'));
      else if (e instanceof ApiError && e.status === 429) setError(t('auth.throttled'));
      else setError(errorMessage(i18n, e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: 'linear-gradient(135deg,#eef3ff,#f7f9fc)', padding: 16 }}>
      <Card style={{ width: 'min(400px, 100%)' }}>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('app.name')}
          </Typography.Title>
          <Segmented<Locale>
            size="small"
            value={locale}
            onChange={setLocale}
            options={[
              { label: '中文', value: 'zh-CN' },
              { label: 'EN', value: 'en' },
            ]}
            aria-label={t('nav.language')}
          />
        </div>
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('app.tagline')}
        </Typography.Paragraph>
        {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} role="alert" />}
        <Form<Credentials> layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, message: t('auth.emailRequired') }]}>
            <Input prefix={<MailOutlined />} autoComplete="username" autoFocus type="email" />
          </Form.Item>
          <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, message: t('auth.passwordRequired') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('auth.login')}
          </Button>
        </Form>
      </Card>
    </main>
  );
}
