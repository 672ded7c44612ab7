//! The transaction layer: owns the transactions, matches messages to them, and drains what
//! they produce through one poll interface.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use super::cancel::{answer_cancel, build_cancel};
use super::client::{ClientOutput, ClientTransaction};
use super::matching::{ClientKey, ServerKey};
use super::server::{ServerOutput, ServerTransaction};
use super::timers::TimerConfig;
use super::{
    BRANCH_MAGIC_COOKIE, TransactionError, TransactionEvent, TransactionId, Transmit, new_branch,
};
use crate::message::{Message, Method, Param, Request, Response, Transport, Via};

struct Client<A> {
    key: ClientKey,
    transport: Transport,
    destination: A,
    transaction: ClientTransaction,
    /// The transaction's `next_timeout()` as last entered in `client_deadlines`.
    deadline: Option<Instant>,
}

struct Server<A> {
    key: ServerKey,
    source: A,
    transaction: ServerTransaction,
    /// The transaction's `next_timeout()` as last entered in `server_deadlines`.
    deadline: Option<Instant>,
}

/// Every transaction of one user agent. See the [module docs](super).
///
/// After any `handle_*`/`send_*`/`respond`/`cancel` call, drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event), then call
/// [`handle_timeout`](Self::handle_timeout) at [`poll_timeout`](Self::poll_timeout).
pub struct TransactionLayer<A> {
    timers: TimerConfig,
    next_id: u64,
    // Ordered maps: timers that fire together are handled (and their messages queued) in
    // transaction order, so a run is reproducible.
    clients: BTreeMap<TransactionId, Client<A>>,
    servers: BTreeMap<TransactionId, Server<A>>,
    client_index: HashMap<ClientKey, TransactionId>,
    server_index: HashMap<ServerKey, TransactionId>,
    // Each live transaction's next timeout, ordered by instant then id, so the earliest is
    // found without scanning every transaction. Kept in step by `sync_client`/`sync_server`
    // after every input to a transaction and by the reapers.
    client_deadlines: BTreeSet<(Instant, TransactionId)>,
    server_deadlines: BTreeSet<(Instant, TransactionId)>,
    transmits: VecDeque<Transmit<A>>,
    events: VecDeque<TransactionEvent<A>>,
}

impl<A> std::fmt::Debug for TransactionLayer<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionLayer")
            .field("clients", &self.clients.len())
            .field("servers", &self.servers.len())
            .finish_non_exhaustive()
    }
}

impl<A: Clone> TransactionLayer<A> {
    /// An empty layer with these timer values.
    pub fn new(timers: TimerConfig) -> TransactionLayer<A> {
        TransactionLayer {
            timers,
            next_id: 1,
            clients: BTreeMap::new(),
            servers: BTreeMap::new(),
            client_index: HashMap::new(),
            server_index: HashMap::new(),
            client_deadlines: BTreeSet::new(),
            server_deadlines: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// How many transactions are alive.
    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// Whether no transaction is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a client transaction for `request`: sets a fresh branch on its top `Via`
    /// (adding `rport` over UDP) and queues it for sending to `destination`. Retransmissions
    /// (timers A and E) happen over unreliable transports only.
    ///
    /// A CANCEL whose top `Via` already carries an RFC 3261 branch keeps it: §9.1 requires
    /// the CANCEL's `Via` to equal the INVITE's, or the server cannot match it (see also
    /// [`cancel`](Self::cancel), which builds the CANCEL for you).
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        transport: Transport,
        destination: A,
        rng: &mut impl rand::RngCore,
    ) -> Result<TransactionId, TransactionError> {
        if request.method == Method::Ack {
            return Err(TransactionError::AckIsNotATransaction);
        }
        let via = request
            .headers
            .top_via()
            .map_err(|_| TransactionError::NoVia)?;
        let kept = via.branch().filter(|existing| {
            request.method == Method::Cancel && existing.starts_with(BRANCH_MAGIC_COOKIE)
        });
        let branch = match kept {
            Some(existing) => existing.to_owned(),
            None => new_branch(rng),
        };
        self.start_client(now, request, via, branch, transport, destination)
    }

    /// Cancels the INVITE of client transaction `invite` (RFC 3261 §9.1): builds the CANCEL
    /// (the INVITE's Request-URI, top `Via` with its branch, `From`, `To`, `Call-ID`, `Route`
    /// and `CSeq` number) and starts its own non-INVITE client transaction to the INVITE's
    /// destination. Its response comes as a [`TransactionEvent::Response`] for the returned id;
    /// the INVITE's own final response (normally 487) comes on the INVITE's id.
    ///
    /// Only allowed once a provisional response has arrived and before a final one.
    pub fn cancel(
        &mut self,
        now: Instant,
        invite: TransactionId,
    ) -> Result<TransactionId, TransactionError> {
        let client = self
            .clients
            .get(&invite)
            .ok_or(TransactionError::NoSuchTransaction(invite))?;
        if !client.transaction.is_cancellable() {
            return Err(TransactionError::NotCancellable(invite));
        }
        let cancel = build_cancel(client.transaction.request())?;
        let via = cancel
            .headers
            .top_via()
            .map_err(|_| TransactionError::NoVia)?;
        let branch = via.branch().ok_or(TransactionError::NoVia)?.to_owned();
        let (transport, destination) = (client.transport, client.destination.clone());
        self.start_client(now, cancel, via, branch, transport, destination)
    }

    /// The request of client transaction `id` as sent (with its branch), while it is alive.
    pub fn client_request(&self, id: TransactionId) -> Option<&Request> {
        self.clients.get(&id).map(|c| c.transaction.request())
    }

    /// Sends a message outside any transaction (an ACK to a 2xx, a stateless response).
    pub fn send_stateless(&mut self, message: Message, destination: A) {
        self.transmits.push_back(Transmit {
            id: None,
            destination,
            message,
        });
    }

    /// Handles a received response: to its client transaction (by top `Via` branch and `CSeq`
    /// method), or up as [`TransactionEvent::StrayResponse`] if none matches.
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        let id = ClientKey::of_response(&response).and_then(|k| self.client_index.get(&k));
        let Some(&id) = id else {
            self.events
                .push_back(TransactionEvent::StrayResponse { response });
            return;
        };
        let mut out = Vec::new();
        if let Some(client) = self.clients.get_mut(&id) {
            client.transaction.handle_response(now, response, &mut out);
        }
        self.apply_client_outputs(id, out);
    }

    /// Handles a received request that came over `transport` from `source`.
    ///
    /// A retransmission goes to its server transaction (which repeats its last response); an
    /// ACK to a non-2xx ends its INVITE transaction's wait ([`TransactionEvent::Acked`]); an
    /// ACK to a 2xx goes up without a transaction; a CANCEL is answered here (see
    /// [`TransactionEvent::Cancelled`]); any other request starts a server transaction and
    /// goes up as [`TransactionEvent::Request`]. An INVITE is answered 100 Trying at once.
    pub fn handle_request(
        &mut self,
        now: Instant,
        request: Request,
        transport: Transport,
        source: A,
    ) {
        let Some(key) = ServerKey::of(&request) else {
            // No Via: nothing can be matched or answered; the transport layer already drops
            // such messages, so this only guards the sans-IO API.
            return;
        };
        if let Some(&id) = self.server_index.get(&key) {
            let accepted = self
                .servers
                .get(&id)
                .is_some_and(|s| s.transaction.is_accepted());
            if request.method == Method::Ack && accepted {
                // RFC 6026 §7.1: an ACK matching an INVITE transaction in Accepted (an RFC 2543
                // peer reuses the INVITE's transaction key for the ACK to a 2xx) goes to the
                // TU, not into the transaction.
                self.request_up(None, request, source);
                return;
            }
            let mut out = Vec::new();
            if let Some(server) = self.servers.get_mut(&id) {
                server.transaction.handle_request(now, &request, &mut out);
            }
            self.apply_server_outputs(id, out);
            return;
        }
        match request.method {
            // An ACK matching no transaction acknowledges a 2xx: it belongs to the dialog.
            Method::Ack => self.request_up(None, request, source),
            Method::Cancel => self.handle_cancel(now, request, transport, source, key),
            _ => {
                let id = self.start_server(request.clone(), transport, source.clone(), key);
                self.request_up(Some(id), request, source);
            }
        }
    }

    /// Answers the request of server transaction `id`. Once an INVITE is answered 2xx, the
    /// TU's retransmissions of that 2xx (§13.3.1.4) may go through here too until timer L
    /// ends the transaction (RFC 6026 §8.7).
    pub fn respond(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Response,
    ) -> Result<(), TransactionError> {
        let server = self
            .servers
            .get_mut(&id)
            .ok_or(TransactionError::NoSuchTransaction(id))?;
        let mut out = Vec::new();
        server
            .transaction
            .send_response(now, response, &mut out)
            .map_err(|_| TransactionError::AlreadyAnswered(id))?;
        self.apply_server_outputs(id, out);
        Ok(())
    }

    /// The request of server transaction `id`, while it is alive.
    pub fn server_request(&self, id: TransactionId) -> Option<&Request> {
        self.servers.get(&id).map(|s| s.transaction.request())
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for id in due(&self.client_deadlines, now) {
            let mut out = Vec::new();
            if let Some(client) = self.clients.get_mut(&id) {
                client.transaction.handle_timeout(now, &mut out);
            }
            self.apply_client_outputs(id, out);
        }
        for id in due(&self.server_deadlines, now) {
            let mut out = Vec::new();
            if let Some(server) = self.servers.get_mut(&id) {
                server.transaction.handle_timeout(now, &mut out);
            }
            self.apply_server_outputs(id, out);
        }
    }

    /// The driver could not send a message of transaction `id` (§17.1.4, §17.2.4): the
    /// transaction ends. [`TransactionEvent::TransportError`] is reported for a request still
    /// waiting for its final response and for any server transaction.
    pub fn handle_transport_error(&mut self, id: TransactionId) {
        if let Some(client) = self.clients.get_mut(&id) {
            let mut out = Vec::new();
            client.transaction.handle_transport_error(&mut out);
            if !out.is_empty() {
                self.events
                    .push_back(TransactionEvent::TransportError { id });
            }
            self.sync_client(id);
            self.reap_client(id);
        } else if let Some(server) = self.servers.get_mut(&id) {
            server.transaction.handle_transport_error();
            self.events
                .push_back(TransactionEvent::TransportError { id });
            self.sync_server(id);
            self.reap_server(id);
        }
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit<A>> {
        self.transmits.pop_front()
    }

    /// The next event for the layer above.
    pub fn poll_event(&mut self) -> Option<TransactionEvent<A>> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    ///
    /// O(log n) in the number of live transactions: it reads the deadline index.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let client = self.client_deadlines.first().map(|&(at, _)| at);
        let server = self.server_deadlines.first().map(|&(at, _)| at);
        client.into_iter().chain(server).min()
    }

    /// Brings client `id`'s entry in the deadline index in step with its transaction.
    fn sync_client(&mut self, id: TransactionId) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        let next = client.transaction.next_timeout();
        if next != client.deadline {
            if let Some(old) = client.deadline {
                self.client_deadlines.remove(&(old, id));
            }
            if let Some(new) = next {
                self.client_deadlines.insert((new, id));
            }
            client.deadline = next;
        }
    }

    /// Brings server `id`'s entry in the deadline index in step with its transaction.
    fn sync_server(&mut self, id: TransactionId) {
        let Some(server) = self.servers.get_mut(&id) else {
            return;
        };
        let next = server.transaction.next_timeout();
        if next != server.deadline {
            if let Some(old) = server.deadline {
                self.server_deadlines.remove(&(old, id));
            }
            if let Some(new) = next {
                self.server_deadlines.insert((new, id));
            }
            server.deadline = next;
        }
    }

    /// The earliest timeout found by asking every live transaction (what `poll_timeout` did
    /// before the deadline index), to check the index against.
    #[cfg(test)]
    pub(super) fn scanned_timeout(&self) -> Option<Instant> {
        let clients = self
            .clients
            .values()
            .filter_map(|c| c.transaction.next_timeout());
        let servers = self
            .servers
            .values()
            .filter_map(|s| s.transaction.next_timeout());
        clients.chain(servers).min()
    }

    /// Panics unless the deadline index holds exactly each live transaction's next timeout.
    #[cfg(test)]
    pub(super) fn assert_deadline_index(&self) {
        let clients: BTreeSet<(Instant, TransactionId)> = self
            .clients
            .iter()
            .filter_map(|(&id, c)| c.transaction.next_timeout().map(|at| (at, id)))
            .collect();
        let servers: BTreeSet<(Instant, TransactionId)> = self
            .servers
            .iter()
            .filter_map(|(&id, s)| s.transaction.next_timeout().map(|at| (at, id)))
            .collect();
        assert_eq!(self.client_deadlines, clients, "client deadline index");
        assert_eq!(self.server_deadlines, servers, "server deadline index");
    }

    fn allocate_id(&mut self) -> TransactionId {
        let id = TransactionId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Puts `branch` (and `rport` over UDP) on `via`, makes it the request's top `Via`, and
    /// starts the client transaction.
    fn start_client(
        &mut self,
        now: Instant,
        mut request: Request,
        mut via: Via,
        branch: String,
        transport: Transport,
        destination: A,
    ) -> Result<TransactionId, TransactionError> {
        let cseq = request
            .headers
            .cseq()
            .map_err(|_| TransactionError::NoCSeq)?;
        let key = ClientKey::new(branch.clone(), cseq.method);
        if self.client_index.contains_key(&key) {
            return Err(TransactionError::BranchInUse);
        }
        via.params
            .retain(|p| !p.name.eq_ignore_ascii_case("branch"));
        via.params.insert(0, Param::new("branch", branch));
        if transport == Transport::Udp && via.rport().is_none() {
            via.params.push(Param::flag("rport"));
        }
        request.headers.set_top_via(&via);
        let id = self.allocate_id();
        let mut out = Vec::new();
        let transaction =
            ClientTransaction::start(now, request, transport.is_reliable(), self.timers, &mut out);
        self.client_index.insert(key.clone(), id);
        self.clients.insert(
            id,
            Client {
                key,
                transport,
                destination,
                transaction,
                deadline: None,
            },
        );
        self.apply_client_outputs(id, out);
        Ok(id)
    }

    fn start_server(
        &mut self,
        request: Request,
        transport: Transport,
        source: A,
        key: ServerKey,
    ) -> TransactionId {
        let id = self.allocate_id();
        let mut out = Vec::new();
        let transaction =
            ServerTransaction::start(request, transport.is_reliable(), self.timers, &mut out);
        self.server_index.insert(key.clone(), id);
        self.servers.insert(
            id,
            Server {
                key,
                source,
                transaction,
                deadline: None,
            },
        );
        self.apply_server_outputs(id, out);
        id
    }

    fn request_up(&mut self, id: Option<TransactionId>, request: Request, source: A) {
        self.events.push_back(TransactionEvent::Request {
            id,
            request,
            source,
        });
    }

    /// CANCEL (§9.2): its own non-INVITE server transaction, answered 200 when it matches an
    /// INVITE server transaction, 481 otherwise. Only an INVITE still without a final response
    /// is reported [`TransactionEvent::Cancelled`]; once answered, the CANCEL has no effect.
    fn handle_cancel(
        &mut self,
        now: Instant,
        request: Request,
        transport: Transport,
        source: A,
        key: ServerKey,
    ) {
        let matched = self
            .server_index
            .get(&key.with_method(Method::Invite))
            .copied();
        let cancelled = matched.filter(|id| {
            self.servers
                .get(id)
                .is_some_and(|s| s.transaction.is_cancellable())
        });
        let response = answer_cancel(&request, matched.is_some());
        let id = self.start_server(request, transport, source, key);
        let mut out = Vec::new();
        if let Some(server) = self.servers.get_mut(&id) {
            // A fresh non-INVITE transaction always takes its first final response.
            let _ = server.transaction.send_response(now, response, &mut out);
        }
        self.apply_server_outputs(id, out);
        if let Some(invite) = cancelled {
            self.events
                .push_back(TransactionEvent::Cancelled { invite });
        }
    }

    fn apply_client_outputs(&mut self, id: TransactionId, out: Vec<ClientOutput>) {
        for output in out {
            match output {
                ClientOutput::Send(message) => {
                    if let Some(client) = self.clients.get(&id) {
                        let destination = client.destination.clone();
                        self.transmits.push_back(Transmit {
                            id: Some(id),
                            destination,
                            message,
                        });
                    }
                }
                ClientOutput::Response(response) => {
                    self.events
                        .push_back(TransactionEvent::Response { id, response });
                }
                ClientOutput::Timeout => self.events.push_back(TransactionEvent::Timeout { id }),
            }
        }
        self.sync_client(id);
        self.reap_client(id);
    }

    fn apply_server_outputs(&mut self, id: TransactionId, out: Vec<ServerOutput>) {
        for output in out {
            match output {
                ServerOutput::Send(message) => {
                    if let Some(server) = self.servers.get(&id) {
                        let destination = server.source.clone();
                        self.transmits.push_back(Transmit {
                            id: Some(id),
                            destination,
                            message,
                        });
                    }
                }
                ServerOutput::Acked => self.events.push_back(TransactionEvent::Acked { id }),
                ServerOutput::AckTimeout => {
                    self.events.push_back(TransactionEvent::AckTimeout { id });
                }
            }
        }
        self.sync_server(id);
        self.reap_server(id);
    }

    fn reap_client(&mut self, id: TransactionId) {
        let done = self
            .clients
            .get(&id)
            .is_some_and(|c| c.transaction.is_terminated());
        if done {
            if let Some(client) = self.clients.remove(&id) {
                if let Some(at) = client.deadline {
                    self.client_deadlines.remove(&(at, id));
                }
                if self.client_index.get(&client.key) == Some(&id) {
                    self.client_index.remove(&client.key);
                }
            }
            self.events.push_back(TransactionEvent::Terminated { id });
        }
    }

    fn reap_server(&mut self, id: TransactionId) {
        let done = self
            .servers
            .get(&id)
            .is_some_and(|s| s.transaction.is_terminated());
        if done {
            if let Some(server) = self.servers.remove(&id) {
                if let Some(at) = server.deadline {
                    self.server_deadlines.remove(&(at, id));
                }
                if self.server_index.get(&server.key) == Some(&id) {
                    self.server_index.remove(&server.key);
                }
            }
            self.events.push_back(TransactionEvent::Terminated { id });
        }
    }
}

/// The transactions whose next timer is due at `now`, in id order (as they were handled when
/// this was a scan over the id-ordered map, so runs stay reproducible). Touches only the due
/// entries of the deadline index.
fn due(deadlines: &BTreeSet<(Instant, TransactionId)>, now: Instant) -> Vec<TransactionId> {
    let mut ids: Vec<TransactionId> = deadlines
        .iter()
        .take_while(|&&(at, _)| at <= now)
        .map(|&(_, id)| id)
        .collect();
    ids.sort_unstable();
    ids
}
