// "Try a translation": a value sent through one mapping, out (CRM value → code) or in (code →
// CRM value), as a connector or an inbound hook would; the result, or the reason it has none (a
// miss is recorded by the server, so the list of unmapped values is refreshed).
import { Button, Input, Radio, Space, Typography } from 'antd';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { FieldDef } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { errorMessage } from '../../../app/PageState';
import { dictionaryKeys, type Direction, type TranslateRequest, type Translated, type ValueMap } from './api';
import { CrmValue } from './CrmValue';

export function TranslateBox({ map, field }: { map: ValueMap; field: FieldDef | undefined }) {
  const i18n = useI18n();
  const { t } = i18n;
  const client = useQueryClient();
  const [direction, setDirection] = useState<Direction>('outbound');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ direction: Direction; value: string } | { error: string } | null>(null);

  // The placeholder names the side typed, with the mapping's first pair as the example.
  const side = direction === 'outbound' ? t('dictionary.crmValue') : t('dictionary.externalCode', { system: map.system });
  const example = direction === 'outbound' ? map.entries[0]?.crm_value : map.entries[0]?.external_code;

  const translate = async () => {
    if (!value.trim()) return;
    setBusy(true);
    setOutcome(null);
    try {
      const body: TranslateRequest = { direction, value: value.trim() };
      const got = await api.post<Translated>(apiPath`/api/v1/dictionary/${map.id}/translate`, body);
      setOutcome({ direction, value: got.value });
    } catch (error) {
      setOutcome({ error: errorMessage(i18n, error) });
    } finally {
      setBusy(false);
    }
    await client.invalidateQueries({ queryKey: dictionaryKeys.all });
  };

  return (
    <div data-testid="translate-box">
      <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 4 }}>
        {t('dictionary.try')}
      </Typography.Text>
      <Space wrap>
        <Radio.Group
          size="small"
          optionType="button"
          value={direction}
          onChange={(e) => {
            setDirection(e.target.value);
            setOutcome(null);
          }}
          options={[
            { value: 'outbound', label: t('dictionary.direction.outbound') },
            { value: 'inbound', label: t('dictionary.direction.inbound') },
          ]}
        />
        <Input
          size="small"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setOutcome(null);
          }}
          onPressEnter={translate}
          placeholder={example ? `${side}${t('common.colon')}${example}` : side}
          aria-label={t('dictionary.tryValue')}
          style={{ width: 220 }}
          spellCheck={false}
        />
        <Button size="small" onClick={translate} loading={busy} disabled={!value.trim()} data-testid="translate-run">
          {t('dictionary.translate')}
        </Button>
      </Space>
      {outcome && (
        <div style={{ marginTop: 6 }} role="status">
          {'error' in outcome ? (
            <Typography.Text type="danger" data-testid="translate-error">
              {outcome.error}
            </Typography.Text>
          ) : (
            <Space size={4} wrap data-testid="translate-result">
              <Typography.Text type="secondary">{t('dictionary.result')}</Typography.Text>
              {outcome.direction === 'inbound' ? <CrmValue field={field} value={outcome.value} /> : <Typography.Text code>{outcome.value}</Typography.Text>}
            </Space>
          )}
        </div>
      )}
    </div>
  );
}
