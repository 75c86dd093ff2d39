//! RESP: the request parser (RESP2 multibulk and inline commands) and the reply writer, which
//! encodes one reply for the connection's protocol version (RESP2 or RESP3).

pub mod parser;
pub mod reply;

pub use parser::{parse, Arg, Limits, ParsedCommands, ProtocolError};
pub use reply::{Out, Proto, Reply};
