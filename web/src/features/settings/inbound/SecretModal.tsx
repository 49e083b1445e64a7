// A hook's secret, shown once (when the hook is made or its secret rotated) with the address to
// post to, both with a copy button, and how a sender uses them (HowToSend).
import { Alert, Button, Modal, Space, Typography } from 'antd';
import { useI18n } from '../../../i18n/I18nProvider';
import type { Hook, HookAuth } from './api';
import { hookUrl } from './model';

/** How to send to a hook: its kind of proof (or both kinds), and what the body holds. */
export function HowToSend({ auth }: { auth?: HookAuth }) {
  const { t } = useI18n();
  return (
    <ul style={{ margin: 0, paddingInlineStart: 20 }} data-testid="hook-howto">
      {auth !== 'token' && (
        <li>
          {t('inbound.howto.standard')} <Typography.Text code>webhook-id</Typography.Text> <Typography.Text code>webhook-timestamp</Typography.Text>{' '}
          <Typography.Text code>webhook-signature</Typography.Text>
        </li>
      )}
      {auth !== 'standard_webhooks' && (
        <li>
          {t('inbound.howto.token')} <Typography.Text code>Authorization: Bearer rtok_…</Typography.Text>
        </li>
      )}
      <li>{t('inbound.howto.body')}</li>
    </ul>
  );
}

export function SecretModal({ hook, secret, rotated, onClose }: { hook: Hook; secret: string; rotated: boolean; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Modal open title={t('inbound.secretOf', { name: hook.name })} onCancel={onClose} footer={<Button onClick={onClose}>{t('common.close')}</Button>} width={640}>
      <Space orientation="vertical" style={{ width: '100%' }} data-testid="hook-secret">
        <Alert type="warning" showIcon title={rotated ? t('inbound.secretRotated') : t('inbound.secretOnce')} />
        <div>
          <Typography.Text type="secondary">{t('inbound.url')}</Typography.Text>
          <Typography.Paragraph code copyable style={{ wordBreak: 'break-all', marginBottom: 0 }} data-testid="hook-secret-url">
            {hookUrl(window.location.origin, hook)}
          </Typography.Paragraph>
        </div>
        <div>
          <Typography.Text type="secondary">{hook.auth === 'token' ? t('inbound.token') : t('inbound.secret')}</Typography.Text>
          <Typography.Paragraph code copyable style={{ wordBreak: 'break-all', marginBottom: 0 }} data-testid="hook-secret-value">
            {secret}
          </Typography.Paragraph>
        </div>
        <HowToSend auth={hook.auth} />
      </Space>
    </Modal>
  );
}
