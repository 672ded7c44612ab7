//! The transaction layer: matching, dispatch, and the poll interface.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use super::client::{ClientOutput, ClientState, ClientTransaction};
use super::server::{ServerOutput, ServerState, ServerTransaction};
use super::timers::TimerConfig;
use super::{TransactionId, new_branch};
use crate::message::{
    HeaderName, Message, Method, Param, Request, Response, StatusCode, Transport, Via,
};

/// Something to send: a message and where (as given to the layer by the driver).
#[derive(Debug, Clone)]
pub struct Transmit<A> {
    /// The transaction that produced it (`None` for stateless sends such as an ACK to a 2xx).
    pub id: Option<TransactionId>,
    /// Where to send it.
    pub destination: A,
    /// The message.
    pub message: Message,
}

/// What the layer reports to the layer above.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TransactionEvent<A> {
    /// A response to one of our requests (provisional, 2xx — including 2xx retransmissions
    /// to INVITE, which the TU must ACK — or another final).
    Response {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: Response,
    },
    /// A request for the layer above: a new server transaction (`id` is `Some`; answer it
    /// with [`TransactionLayer::respond`]), or an ACK to a 2xx, which belongs to the dialog and
    /// has no transaction (`id` is `None`).
    Request {
        /// The server transaction, if any.
        id: Option<TransactionId>,
        /// The request.
        request: Request,
        /// Where it came from.
        source: A,
    },
    /// A CANCEL matched this INVITE server transaction; the CANCEL itself has been answered
    /// 200. The TU should answer the INVITE with 487 unless it already sent a final response.
    Cancelled {
        /// The INVITE server transaction.
        invite: TransactionId,
    },
    /// No final response in time (timer B or F): the request failed.
    Timeout {
        /// The client transaction.
        id: TransactionId,
    },
    /// The transport could not deliver a message of this transaction.
    TransportError {
        /// The transaction.
        id: TransactionId,
    },
    /// Our non-2xx final response to an INVITE was never ACKed (timer H).
    AckTimeout {
        /// The server transaction.
        id: TransactionId,
    },
    /// A response matched no transaction (RFC 3261 §17.1.3: passed to the core).
    StrayResponse {
        /// The response.
        response: Response,
    },
    /// The transaction ended and was removed.
    Terminated {
        /// The transaction.
        id: TransactionId,
    },
}

/// Errors in using the layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The request has no `Via` for the branch.
    #[error("the request has no Via header to carry the transaction branch")]
    NoVia,
    /// The request has no usable `CSeq`.
    #[error("the request has no valid CSeq")]
    NoCSeq,
    /// ACK is not sent through a transaction.
    #[error("an ACK to a 2xx is sent with send_stateless, not as a transaction")]
    AckIsNotATransaction,
    /// The transaction does not exist (anymore).
    #[error("no such transaction {0:?}")]
    NoSuchTransaction(TransactionId),
    /// The transaction has already sent its final response.
    #[error("transaction {0:?} already sent a final response")]
    AlreadyAnswered(TransactionId),
    /// Another live client transaction already uses this branch and method (a second CANCEL
    /// for the same INVITE).
    #[error("a client transaction with this branch and method already exists")]
    BranchInUse,
    /// The INVITE cannot be cancelled now: no provisional response yet (RFC 3261 §9.1: wait
    /// for one), or it already has a final response.
    #[error("transaction {0:?} cannot be cancelled in its current state")]
    NotCancellable(TransactionId),
}

struct Client<A> {
    key: (String, Method),
    transport: Transport,
    destination: A,
    transaction: ClientTransaction,
}

struct Server<A> {
    key: ServerKey,
    source: A,
    transaction: ServerTransaction,
}

/// Server matching key (§17.2.3): branch, sent-by, and the method (ACK counts as INVITE).
type ServerKey = (String, String, Method);

/// Every transaction of one user agent. See the [module docs](super).
pub struct TransactionLayer<A> {
    timers: TimerConfig,
    next_id: u64,
    // Ordered maps: timers that fire together are handled (and their messages queued) in
    // transaction order, so a run is reproducible.
    clients: BTreeMap<TransactionId, Client<A>>,
    servers: BTreeMap<TransactionId, Server<A>>,
    client_index: HashMap<(String, Method), TransactionId>,
    server_index: HashMap<ServerKey, TransactionId>,
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
    /// (adding `rport` over UDP) and queues it for sending to `destination`.
    ///
    /// A CANCEL whose top `Via` already carries an RFC 3261 branch keeps it: §9.1 requires
    /// the CANCEL's `Via` to equal the INVITE's, or the server cannot match it (see also
    /// [`cancel`](Self::cancel), which builds the CANCEL for you).
    pub fn send_request(
        &mut self,
        now: Instant,
        mut request: Request,
        transport: Transport,
        destination: A,
        rng: &mut impl rand::RngCore,
    ) -> Result<TransactionId, TransactionError> {
        if request.method == Method::Ack {
            return Err(TransactionError::AckIsNotATransaction);
        }
        let cseq = request
            .headers
            .cseq()
            .map_err(|_| TransactionError::NoCSeq)?;
        let mut via = request
            .headers
            .top_via()
            .map_err(|_| TransactionError::NoVia)?;
        let keep = via.branch().filter(|existing| {
            request.method == Method::Cancel && existing.starts_with(super::BRANCH_MAGIC_COOKIE)
        });
        let branch = match keep {
            Some(existing) => existing.to_owned(),
            None => {
                let branch = new_branch(rng);
                via.params
                    .retain(|p| !p.name.eq_ignore_ascii_case("branch"));
                via.params.insert(0, Param::new("branch", branch.clone()));
                branch
            }
        };
        if transport == Transport::Udp && via.rport().is_none() {
            via.params.push(Param::flag("rport"));
        }
        let key = (branch, cseq.method);
        if self.client_index.contains_key(&key) {
            return Err(TransactionError::BranchInUse);
        }
        replace_top_via(&mut request, &via);
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
            },
        );
        self.apply_client_outputs(id, out);
        Ok(id)
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
        let original = client.transaction.request();
        if original.method != Method::Invite {
            return Err(TransactionError::NotCancellable(invite));
        }
        if client.transaction.state != ClientState::Proceeding {
            return Err(TransactionError::NotCancellable(invite));
        }
        let mut cancel = Request::new(Method::Cancel, original.uri.clone());
        let headers = &original.headers;
        let via = headers.top_via().map_err(|_| TransactionError::NoVia)?;
        let cseq = headers.cseq().map_err(|_| TransactionError::NoCSeq)?;
        cancel.headers.push(HeaderName::Via, via.to_string());
        cancel.headers.push(HeaderName::MaxForwards, "70");
        for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
            if let Some(value) = headers.get(&name) {
                cancel.headers.push(name, value);
            }
        }
        cancel
            .headers
            .push(HeaderName::CSeq, format!("{} CANCEL", cseq.seq));
        for route in headers.get_all(&HeaderName::Route) {
            cancel.headers.push(HeaderName::Route, route);
        }
        let (transport, destination) = (client.transport, client.destination.clone());
        // The CANCEL carries the INVITE's branch, which `send_request` keeps: the RNG is unused.
        self.send_request(now, cancel, transport, destination, &mut UnusedRng)
    }

    /// The request of client transaction `id` as sent (with its branch), while it is alive.
    pub fn client_request(&self, id: TransactionId) -> Option<&Request> {
        self.clients.get(&id).map(|c| c.transaction.request())
    }

    /// Sends a message outside any transaction (an ACK to a 2xx, a 2xx retransmission by the
    /// TU, a stateless response).
    pub fn send_stateless(&mut self, message: Message, destination: A) {
        self.transmits.push_back(Transmit {
            id: None,
            destination,
            message,
        });
    }

    /// Handles a received response.
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        let key = response
            .headers
            .top_via()
            .ok()
            .and_then(|via| via.branch().map(str::to_owned))
            .zip(response.headers.cseq().ok().map(|c| c.method));
        let id = key.and_then(|k| self.client_index.get(&k).copied());
        let Some(id) = id else {
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
    pub fn handle_request(
        &mut self,
        now: Instant,
        request: Request,
        transport: Transport,
        source: A,
    ) {
        let Some(key) = server_key(&request) else {
            // No Via: nothing can be matched or answered; the transport layer already drops
            // such messages, so this only guards the sans-IO API.
            return;
        };
        if let Some(&id) = self.server_index.get(&key) {
            let accepted = self
                .servers
                .get(&id)
                .is_some_and(|s| s.transaction.state == ServerState::Accepted);
            if request.method == Method::Ack && accepted {
                // RFC 6026 §7.1: an ACK matching an INVITE transaction in Accepted (an RFC 2543
                // peer reuses the INVITE's transaction key for the ACK to a 2xx) goes to the
                // TU, not into the transaction.
                self.events.push_back(TransactionEvent::Request {
                    id: None,
                    request,
                    source,
                });
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
            Method::Ack => {
                // An ACK matching no transaction acknowledges a 2xx: it belongs to the dialog.
                self.events.push_back(TransactionEvent::Request {
                    id: None,
                    request,
                    source,
                });
            }
            Method::Cancel => self.handle_cancel(now, request, transport, source, key),
            _ => {
                let id = self.new_server(now, request.clone(), transport, source.clone(), key);
                self.events.push_back(TransactionEvent::Request {
                    id: Some(id),
                    request,
                    source,
                });
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
        if !server.transaction.send_response(now, response, &mut out) {
            return Err(TransactionError::AlreadyAnswered(id));
        }
        self.apply_server_outputs(id, out);
        Ok(())
    }

    /// The request of server transaction `id`, while it is alive.
    pub fn server_request(&self, id: TransactionId) -> Option<&Request> {
        self.servers.get(&id).map(|s| &s.transaction.request)
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for id in due(&self.clients, now, |c| c.transaction.next_timeout()) {
            let mut out = Vec::new();
            if let Some(client) = self.clients.get_mut(&id) {
                client.transaction.handle_timeout(now, &mut out);
            }
            self.apply_client_outputs(id, out);
        }
        for id in due(&self.servers, now, |s| s.transaction.next_timeout()) {
            let mut out = Vec::new();
            if let Some(server) = self.servers.get_mut(&id) {
                server.transaction.handle_timeout(now, &mut out);
            }
            self.apply_server_outputs(id, out);
        }
    }

    /// The driver could not send a message of transaction `id`.
    pub fn handle_transport_error(&mut self, id: TransactionId) {
        if let Some(client) = self.clients.get_mut(&id) {
            let mut out = Vec::new();
            client.transaction.handle_transport_error(&mut out);
            if !out.is_empty() {
                self.events
                    .push_back(TransactionEvent::TransportError { id });
            }
            self.reap_client(id);
        } else if let Some(server) = self.servers.get_mut(&id) {
            server.transaction.handle_transport_error();
            self.events
                .push_back(TransactionEvent::TransportError { id });
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
    pub fn poll_timeout(&self) -> Option<Instant> {
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

    fn allocate_id(&mut self) -> TransactionId {
        let id = TransactionId(self.next_id);
        self.next_id += 1;
        id
    }

    fn new_server(
        &mut self,
        now: Instant,
        request: Request,
        transport: Transport,
        source: A,
        key: ServerKey,
    ) -> TransactionId {
        let _ = now;
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
            },
        );
        self.apply_server_outputs(id, out);
        id
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
        let invite_key = (key.0.clone(), key.1.clone(), Method::Invite);
        let matched = self.server_index.get(&invite_key).copied();
        let invite = matched.filter(|id| {
            self.servers
                .get(id)
                .is_some_and(|s| s.transaction.state == ServerState::Proceeding)
        });
        let status = if matched.is_some() {
            StatusCode::OK
        } else {
            StatusCode::NO_TRANSACTION
        };
        let mut response = Response::for_request(&request, status, None);
        add_to_tag(&mut response, rng_free_tag(&request));
        let id = self.new_server(now, request, transport, source, key);
        let mut out = Vec::new();
        if let Some(server) = self.servers.get_mut(&id) {
            server.transaction.send_response(now, response, &mut out);
        }
        self.apply_server_outputs(id, out);
        if let Some(invite) = invite {
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
                ServerOutput::Acked => {}
                ServerOutput::Timeout => self.events.push_back(TransactionEvent::AckTimeout { id }),
            }
        }
        self.reap_server(id);
    }

    fn reap_client(&mut self, id: TransactionId) {
        let done = self
            .clients
            .get(&id)
            .is_some_and(|c| c.transaction.state == ClientState::Terminated);
        if done {
            if let Some(client) = self.clients.remove(&id)
                && self.client_index.get(&client.key) == Some(&id)
            {
                self.client_index.remove(&client.key);
            }
            self.events.push_back(TransactionEvent::Terminated { id });
        }
    }

    fn reap_server(&mut self, id: TransactionId) {
        let done = self
            .servers
            .get(&id)
            .is_some_and(|s| s.transaction.state == ServerState::Terminated);
        if done {
            if let Some(server) = self.servers.remove(&id)
                && self.server_index.get(&server.key) == Some(&id)
            {
                self.server_index.remove(&server.key);
            }
            self.events.push_back(TransactionEvent::Terminated { id });
        }
    }
}

/// The §17.2.3 key of a request: top Via branch and sent-by, method with ACK as INVITE. A
/// branch without the magic cookie (RFC 2543) falls back to Call-ID, CSeq number and From tag.
fn server_key(request: &Request) -> Option<ServerKey> {
    let via = request.headers.top_via().ok()?;
    let sent_by = sent_by(&via);
    let method = if request.method == Method::Ack {
        Method::Invite
    } else {
        request.method.clone()
    };
    let branch = match via.branch() {
        Some(b) if b.starts_with(super::BRANCH_MAGIC_COOKIE) => b.to_owned(),
        _ => {
            let call_id = request.headers.call_id().unwrap_or_default();
            let seq = request.headers.cseq().map(|c| c.seq).unwrap_or_default();
            let tag = request
                .headers
                .from_header()
                .ok()
                .and_then(|f| f.tag().map(str::to_owned));
            format!("2543:{call_id}:{seq}:{}", tag.unwrap_or_default())
        }
    };
    Some((branch, sent_by, method))
}

fn sent_by(via: &Via) -> String {
    match via.port {
        Some(port) => format!("{}:{port}", via.host),
        None => via.host.to_string(),
    }
}

fn replace_top_via(request: &mut Request, top: &Via) {
    let rest: Vec<Via> = request
        .headers
        .vias()
        .map(|v| v.into_iter().skip(1).collect())
        .unwrap_or_default();
    request.headers.remove(&HeaderName::Via);
    for via in rest.iter().rev() {
        request.headers.push_front(HeaderName::Via, via.to_string());
    }
    request.headers.push_front(HeaderName::Via, top.to_string());
}

/// The RNG handed to [`TransactionLayer::send_request`] by [`TransactionLayer::cancel`]: a
/// CANCEL with the INVITE's RFC 3261 branch keeps it, so nothing is drawn.
struct UnusedRng;

impl rand::RngCore for UnusedRng {
    fn next_u32(&mut self) -> u32 {
        0
    }

    fn next_u64(&mut self) -> u64 {
        0
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
}

/// Adds a To-tag to a response the layer generates itself (RFC 3261 §8.2.6.2), unless the To
/// already has one.
fn add_to_tag(response: &mut Response, tag: String) {
    let Ok(mut to) = response.headers.to_header() else {
        return;
    };
    if to.tag().is_some() {
        return;
    }
    to.params.push(Param::new("tag", tag));
    response.headers.set(HeaderName::To, to.to_string());
}

/// A To-tag derived from the request (its branch and Call-ID), so a retransmitted CANCEL gets
/// the same answer without the layer needing an RNG here.
fn rng_free_tag(request: &Request) -> String {
    let branch = request
        .headers
        .top_via()
        .ok()
        .and_then(|v| v.branch().map(str::to_owned));
    let call_id = request.headers.call_id().unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in branch.unwrap_or_default().bytes().chain(call_id.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The transactions whose next timer is due at `now`, in id order.
fn due<T>(
    transactions: &BTreeMap<TransactionId, T>,
    now: Instant,
    next_timeout: impl Fn(&T) -> Option<Instant>,
) -> Vec<TransactionId> {
    transactions
        .iter()
        .filter(|(_, t)| next_timeout(t).is_some_and(|at| at <= now))
        .map(|(id, _)| *id)
        .collect()
}
