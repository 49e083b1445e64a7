// Icons and colours of the CDP: one per source kind (app, web, mini-program, POS, …), per event
// call when the source is not known, and for the CRM's own records and field changes.
import {
  ApiOutlined, AppstoreOutlined, CloudServerOutlined, CustomerServiceOutlined, DesktopOutlined, EditOutlined, GlobalOutlined,
  LinkOutlined, MobileOutlined, NotificationOutlined, ShopOutlined, TeamOutlined, ThunderboltOutlined, UserOutlined,
  WechatOutlined, WechatWorkOutlined,
} from '@ant-design/icons';
import type { ReactNode } from 'react';
import { objectIcon } from '../../app/objectIcons';
import type { JourneyEntry } from './api';

interface Visual {
  icon: ReactNode;
  color: string;
}

const KIND: Record<string, Visual> = {
  app: { icon: <MobileOutlined />, color: '#1f6feb' },
  web: { icon: <GlobalOutlined />, color: '#13a8a8' },
  mini_program: { icon: <WechatOutlined />, color: '#07c160' },
  pos: { icon: <ShopOutlined />, color: '#d46b08' },
  iot: { icon: <ApiOutlined />, color: '#722ed1' },
  ads: { icon: <NotificationOutlined />, color: '#eb2f96' },
  wecom: { icon: <WechatWorkOutlined />, color: '#1677ff' },
  service: { icon: <CustomerServiceOutlined />, color: '#fa8c16' },
  server: { icon: <CloudServerOutlined />, color: '#595959' },
  other: { icon: <AppstoreOutlined />, color: '#8c8c8c' },
};

const CALL: Record<string, Visual> = {
  track: { icon: <ThunderboltOutlined />, color: '#1f6feb' },
  page: { icon: <GlobalOutlined />, color: '#13a8a8' },
  screen: { icon: <DesktopOutlined />, color: '#2f54eb' },
  identify: { icon: <UserOutlined />, color: '#389e0d' },
  group: { icon: <TeamOutlined />, color: '#7cb305' },
  alias: { icon: <LinkOutlined />, color: '#8c8c8c' },
};

export function kindVisual(kind: string | undefined): Visual {
  return KIND[kind ?? 'other'] ?? (KIND.other as Visual);
}

/** The icon and colour of a journey entry; `kinds` maps source ids to their kind when known. */
export function entryVisual(entry: JourneyEntry, kinds: Map<string, string>): Visual {
  if (entry.category === 'field_change') return { icon: <EditOutlined />, color: '#8c8c8c' };
  if (entry.category === 'record') return { icon: objectIcon(entry.type), color: '#52c41a' };
  const kind = kinds.get(entry.source);
  if (kind) return kindVisual(kind);
  return CALL[entry.type] ?? (CALL.track as Visual);
}
