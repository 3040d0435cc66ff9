// The page registry. A page is a module exporting a PageModule (see core/page.ts); add it here with
// one line and it gets a route, a navigation entry (if it has `nav`), permission checks and its
// strings merged into the dictionaries. Other areas put their pages in their own folder, e.g.
//   import { emrPage } from '../emr/page';       // console/src/emr/page.ts
// and list them below.
import type { PageModule } from '../core/page';
import { accountPage, auditPage, tokensPage, usersPage } from './admin';
import { channelPage, channelsPage } from './channels';
import { claimPage, claimsPage } from './claims';
import { dashboardPage } from './dashboard';
import { deadLettersPage } from './dead-letters';
import { devicesPage } from './devices';
import { loginPage } from './login';
import { messagePage } from './message-detail';
import { messagesPage } from './messages';
import { emrPages } from '../emr/pages';

export const pages: PageModule[] = [
  loginPage,
  dashboardPage,
  channelsPage,
  channelPage,
  messagesPage,
  messagePage,
  deadLettersPage,
  devicesPage,
  claimsPage,
  claimPage,
  usersPage,
  auditPage,
  accountPage,
  tokensPage,
  ...emrPages,
];
