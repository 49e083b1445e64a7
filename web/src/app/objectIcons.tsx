// An icon per standard object; custom objects share one.
import {
  AppstoreOutlined, BankOutlined, CalendarOutlined, CustomerServiceOutlined, FileTextOutlined,
  FundOutlined, NotificationOutlined, ProfileOutlined, SolutionOutlined, TeamOutlined, CheckSquareOutlined,
  UserAddOutlined,
} from '@ant-design/icons';
import type { ReactNode } from 'react';

const ICONS: Record<string, ReactNode> = {
  company: <BankOutlined />,
  contact: <TeamOutlined />,
  lead: <UserAddOutlined />,
  deal: <FundOutlined />,
  activity: <CalendarOutlined />,
  task: <CheckSquareOutlined />,
  note: <FileTextOutlined />,
  ticket: <CustomerServiceOutlined />,
  campaign: <NotificationOutlined />,
  quote: <ProfileOutlined />,
  contract: <SolutionOutlined />,
};

export function objectIcon(apiName: string): ReactNode {
  return ICONS[apiName] ?? <AppstoreOutlined />;
}
