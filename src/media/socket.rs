//! The call's UDP ports, bound before the SDP is written.

use std::net::{IpAddr, SocketAddr};

use tokio::net::UdpSocket;

use super::MediaError;

/// Port pairs tried before giving up.
const ATTEMPTS: u32 = 32;

/// The RTP and RTCP sockets of one call.
///
/// Always a pair: an even RTP port `P` (RFC 3550 §11) and `P + 1` for RTCP, both bound when
/// the offer or answer is written, so either outcome of the `a=rtcp-mux` negotiation works
/// without binding again. The session reads both: with rtcp-mux the far end sends RTCP to
/// `P`, without it to `P + 1` (some peers send there anyway). The ports are taken from the
/// system's ephemeral range.
///
/// ```no_run
/// # async fn f() -> Result<(), lockphone::media::MediaError> {
/// use lockphone::media::MediaSocket;
///
/// let socket = MediaSocket::bind("127.0.0.1".parse().unwrap()).await?;
/// assert_eq!(socket.local_addr().port() % 2, 0);
/// assert_eq!(socket.rtcp_local_addr().port(), socket.local_addr().port() + 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MediaSocket {
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: UdpSocket,
    rtp_addr: SocketAddr,
    rtcp_addr: SocketAddr,
}

impl MediaSocket {
    /// Binds an even RTP port and the odd port above it for RTCP on `ip` (trying up to 32
    /// pairs).
    pub async fn bind(ip: IpAddr) -> Result<MediaSocket, MediaError> {
        let mut last = std::io::Error::other("no port pair tried");
        for _ in 0..ATTEMPTS {
            let rtp = match UdpSocket::bind(SocketAddr::new(ip, 0)).await {
                Ok(s) => s,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            let rtp_addr = rtp.local_addr()?;
            let port = rtp_addr.port();
            if port % 2 != 0 || port == u16::MAX {
                continue;
            }
            match UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                Ok(rtcp) => {
                    let rtcp_addr = rtcp.local_addr()?;
                    return Ok(MediaSocket {
                        rtp,
                        rtcp,
                        rtp_addr,
                        rtcp_addr,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(MediaError::Bind {
            ip,
            attempts: ATTEMPTS,
            last,
        })
    }

    /// The RTP address: the port to put in `m=audio`.
    pub fn local_addr(&self) -> SocketAddr {
        self.rtp_addr
    }

    /// The RTCP address (RTP port + 1), for `a=rtcp:` when rtcp-mux is not used.
    pub fn rtcp_local_addr(&self) -> SocketAddr {
        self.rtcp_addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_an_even_port_and_the_next_one() {
        let a = MediaSocket::bind(IpAddr::from([127, 0, 0, 1]))
            .await
            .unwrap();
        let b = MediaSocket::bind(IpAddr::from([127, 0, 0, 1]))
            .await
            .unwrap();
        for s in [&a, &b] {
            assert_eq!(s.local_addr().port() % 2, 0);
            assert_eq!(s.rtcp_local_addr().port(), s.local_addr().port() + 1);
            assert!(s.local_addr().ip().is_loopback());
        }
        assert_ne!(a.local_addr(), b.local_addr());
    }

    #[tokio::test]
    async fn a_foreign_address_is_a_clear_error() {
        // TEST-NET-1 is never a local address.
        let err = MediaSocket::bind(IpAddr::from([192, 0, 2, 1]))
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, MediaError::Bind { .. }), "{message}");
        assert!(message.contains("192.0.2.1"), "{message}");
    }
}
