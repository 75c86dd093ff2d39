//! A shard's inbound mailbox: a crossbeam MPSC channel plus an `AtomicWaker` doorbell, so an idle
//! shard parks in io_uring (0% CPU) and a sender from any thread wakes it. Never a blocking recv
//! on an executor thread, never polling with a timer.

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use futures::task::AtomicWaker;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

pub struct MailboxSender<T> {
    /// Always Some until drop, which must drop it before ringing the bell.
    tx: Option<Sender<T>>,
    bell: Arc<AtomicWaker>,
}

impl<T> Clone for MailboxSender<T> {
    fn clone(&self) -> Self {
        MailboxSender {
            tx: self.tx.clone(),
            bell: self.bell.clone(),
        }
    }
}

pub struct MailboxReceiver<T> {
    rx: Receiver<T>,
    bell: Arc<AtomicWaker>,
}

pub fn mailbox<T>() -> (MailboxSender<T>, MailboxReceiver<T>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let bell = Arc::new(AtomicWaker::new());
    (
        MailboxSender {
            tx: Some(tx),
            bell: bell.clone(),
        },
        MailboxReceiver { rx, bell },
    )
}

impl<T> MailboxSender<T> {
    /// Queues a message and rings the doorbell. Fails only when the receiver is gone (shutdown).
    pub fn send(&self, msg: T) -> Result<(), T> {
        let r = match &self.tx {
            Some(tx) => tx.send(msg).map_err(|e| e.0),
            None => Err(msg),
        };
        self.bell.wake();
        r
    }
}

impl<T> Drop for MailboxSender<T> {
    fn drop(&mut self) {
        // Disconnect first, then wake: woken the other way round, the receiver could see Empty,
        // park, and never hear of the disconnect.
        drop(self.tx.take());
        self.bell.wake();
    }
}

impl<T> MailboxReceiver<T> {
    /// Next message; None once every sender is gone.
    pub async fn recv(&self) -> Option<T> {
        poll_fn(|cx| {
            match self.rx.try_recv() {
                Ok(m) => return Poll::Ready(Some(m)),
                Err(TryRecvError::Disconnected) => return Poll::Ready(None),
                Err(TryRecvError::Empty) => {}
            }
            self.bell.register(cx.waker());
            // Check again: a message sent between the first check and the registration would
            // otherwise ring a bell nobody listened to.
            match self.rx.try_recv() {
                Ok(m) => Poll::Ready(Some(m)),
                Err(TryRecvError::Disconnected) => Poll::Ready(None),
                Err(TryRecvError::Empty) => Poll::Pending,
            }
        })
        .await
    }

    /// A message already queued, without waiting.
    pub fn try_recv(&self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_across_threads_and_ends_on_disconnect() {
        let (tx, rx) = mailbox::<u32>();
        let t = std::thread::spawn(move || {
            for i in 0..1000 {
                tx.send(i).unwrap();
            }
        });
        let got = futures::executor::block_on(async {
            let mut v = Vec::new();
            while let Some(x) = rx.recv().await {
                v.push(x);
            }
            v
        });
        t.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}
