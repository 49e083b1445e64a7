// Starts the data of a list view opened directly (a link, a reload) before React renders: the
// session, the metadata, the users and the saved views in parallel, then the first page and
// the total of the view as soon as the object's definition is known. Fills the very cache
// entries the pages read (same query options), so the list renders without a request of its own.
import type { QueryClient } from '@tanstack/react-query';
import { meQuery, objectsQuery, usersQuery, viewsQuery } from '../api/queries';
import { toCondition } from '../features/records/filter/conditionModel';
import { listPageQuery, listTotalQuery } from '../features/records/useRecordList';
import { defaultViewState, viewStateOf } from '../features/records/viewState';

const LIST_ROUTE = /^\/o\/([^/]+)\/?$/;

export function preloadListView(client: QueryClient, pathname: string, search: string): void {
  const match = LIST_ROUTE.exec(pathname);
  if (!match) return;
  const apiName = decodeURIComponent(match[1]);
  const viewId = new URLSearchParams(search).get('view');
  void client.prefetchQuery(usersQuery);
  void client.prefetchQuery(viewsQuery(apiName));
  Promise.all([
    client.fetchQuery(meQuery),
    client.fetchQuery(objectsQuery),
    viewId ? client.ensureQueryData(viewsQuery(apiName)) : [],
  ])
    .then(([, objects, views]) => {
      const object = objects.find((o) => o.api_name === apiName);
      if (!object) return;
      const view = views.find((v) => v.id === viewId);
      const state = view ? viewStateOf(object, view) : defaultViewState(object);
      const filter = toCondition(state.filter);
      void client.prefetchQuery(listPageQuery(object, filter, state.sort, state.columns, undefined));
      void client.prefetchQuery(listTotalQuery(object, filter));
    })
    // Signed out or the server said no: the pages ask again and show why.
    .catch(() => undefined);
}
