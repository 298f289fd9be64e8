//! Open widget sockets per client address: a cap so one address cannot hold the server's
//! whole allowance of sockets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Counts open sockets by address.
#[derive(Debug, Default)]
pub(crate) struct OpenSockets {
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One open socket; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct SocketPlace {
    sockets: Arc<OpenSockets>,
    address: IpAddr,
}

impl OpenSockets {
    /// A place for one more socket from `address`, or `None` when it holds `cap` already.
    pub(crate) fn take(self: &Arc<Self>, address: IpAddr, cap: usize) -> Option<SocketPlace> {
        let mut by_address = self
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let open = by_address.entry(address).or_default();
        if *open >= cap {
            return None;
        }
        *open += 1;
        Some(SocketPlace {
            sockets: Arc::clone(self),
            address,
        })
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut by_address = self
            .sockets
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = by_address.get_mut(&self.address) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_places_back_when_sockets_close() {
        let sockets = Arc::new(OpenSockets::default());
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let first = sockets.take(a, 2).expect("first");
        let _second = sockets.take(a, 2).expect("second");
        assert!(sockets.take(a, 2).is_none());
        assert!(
            sockets.take(b, 2).is_some(),
            "other addresses are not affected"
        );
        drop(first);
        assert!(sockets.take(a, 2).is_some());
    }
}
