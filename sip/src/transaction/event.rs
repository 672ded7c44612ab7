//! What the layer hands back: messages to send, events for the layer above, and its errors.

use super::TransactionId;
use crate::message::{Message, Request, Response};

/// Something to send: a message and where (as given to the layer by the driver).
#[derive(Debug, Clone)]
pub struct Transmit<A> {
    /// The transaction that produced it (`None` for stateless sends such as an ACK to a 2xx).
    /// If sending fails, report it with
    /// [`TransactionLayer::handle_transport_error`](super::TransactionLayer::handle_transport_error).
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
    /// with [`TransactionLayer::respond`](super::TransactionLayer::respond)), or an ACK to a
    /// 2xx, which belongs to the dialog and has no transaction (`id` is `None`).
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
    /// The ACK for our non-2xx final response to an INVITE arrived (the transaction absorbs
    /// its retransmissions and ends after timer I).
    Acked {
        /// The INVITE server transaction.
        id: TransactionId,
    },
    /// No final response in time (timer B or F): the request failed.
    Timeout {
        /// The client transaction.
        id: TransactionId,
    },
    /// The transport could not deliver a message of this transaction; it has ended.
    TransportError {
        /// The transaction.
        id: TransactionId,
    },
    /// Our non-2xx final response to an INVITE was never ACKed (timer H).
    AckTimeout {
        /// The server transaction.
        id: TransactionId,
    },
    /// A response matched no transaction (§17.1.3: passed to the core), typically a 2xx to
    /// INVITE retransmitted after timer M, which the dialog still ACKs.
    StrayResponse {
        /// The response.
        response: Response,
    },
    /// The transaction ended and was removed; its id is never reused.
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
