// The workstation's agent socket: the shared feed (core/feed.ts) on this page's origin, with
// its ticket asked through the API client, so with this tab's sign-in.
import { api, ApiError } from "./api";
import { FeedSocket, type FeedEvents, type Link, type Ticket } from "./feed";
import type { Frame, Reply } from "./frames";

export type { Link };

export type SocketEvents = FeedEvents<Frame, Reply>;

async function ticket(): Promise<Ticket> {
  try {
    return { ticket: (await api.ticket()).ticket };
  } catch (e) {
    // 401: the sign-in expired or was replaced; 403: refused for a reason its code names.
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      return { ended: e.status === 401 ? "expired" : e.code };
    }
    return null;
  }
}

export class AgentSocket extends FeedSocket<Frame, Reply> {
  constructor(on: SocketEvents) {
    super(on, { origin: location.origin, ticket });
  }
}
