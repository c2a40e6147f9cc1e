//! A deadline on receiving the request body.
//!
//! actix-web's `client_request_timeout` bounds the request head only: a client
//! that sends its headers and then one byte of body a second would hold its
//! connection (and a worker's attention) for as long as it likes. Here the body
//! stream fails once `GUILD_REQUEST_TIMEOUT_SECS` have passed since the head
//! arrived, and the answer becomes `408 request_timeout` with the connection
//! closed. Only the reading of the body is bounded, never the handler's work
//! once the body is in: a write is not cut off half-way.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::Stream;

use crate::config::DEFAULT_REQUEST_TIMEOUT;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Fails the request body once the configured time has passed; answers `408`.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(DEFAULT_REQUEST_TIMEOUT, |s| s.config.request_timeout);
    let expired = Arc::new(AtomicBool::new(false));
    let body = DeadlineBody {
        inner: req.take_payload(),
        deadline: Box::pin(sleep(limit)),
        limit,
        expired: Arc::clone(&expired),
        finished: false,
    };
    let body: Pin<Box<dyn Stream<Item = Result<web::Bytes, PayloadError>>>> = Box::pin(body);
    req.set_payload(Payload::from(body));
    let res = next.call(req).await?.map_into_boxed_body();
    if !expired.load(Ordering::Acquire) {
        return Ok(res);
    }
    // Whatever the reader made of the failed body, the cause is the deadline.
    let (req, _) = res.into_parts();
    let mut response = ApiError::http(
        ErrorCode::RequestTimeout,
        format!(
            "the request body did not arrive within {} s",
            limit.as_secs()
        ),
    )
    .error_response();
    // The rest of the body may still be on its way: do not read it, close.
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(req, response))
}

/// The request body, failing with a timed-out I/O error at the deadline.
struct DeadlineBody {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    limit: Duration,
    expired: Arc<AtomicBool>,
    finished: bool,
}

impl Stream for DeadlineBody {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(None) => {
                self.finished = true;
                return Poll::Ready(None);
            }
            Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
            Poll::Pending => {}
        }
        if self.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.finished = true;
        self.expired.store(true, Ordering::Release);
        let secs = self.limit.as_secs();
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the request body did not arrive within {secs} s"),
        )))))
    }
}
