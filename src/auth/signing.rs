//! What the server signs besides access tokens: respondents' invitation tokens, resume tokens of
//! responses in progress, and the keyed hash of client addresses. HMAC-SHA256 with one key per
//! purpose, each derived from the server secret every instance shares, so any instance checks
//! what another signed and a token of one purpose never passes for another.
use std::net::IpAddr;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

const INVITATION_PREFIX: &str = "inv_";
const RESUME_PREFIX: &str = "rt_";
/// Bytes of a signature kept in tokens: 128 bits.
const TAG_BYTES: usize = 16;
const INVITATION_FORMAT: u8 = 1;

/// A checked invitation: one respondent invited to one form, until an optional time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub form_id: Uuid,
    pub respondent_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Keys derived from the server secret.
#[derive(Clone)]
pub struct Signer {
    invitation: [u8; 32],
    resume: [u8; 32],
    address: [u8; 32],
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Signer {
            invitation: mac(secret, &[b"nazar/invitation/v1"]),
            resume: mac(secret, &[b"nazar/resume/v1"]),
            address: mac(secret, &[b"nazar/address/v1"]),
        }
    }

    /// A token that lets `respondent_id` answer `form_id` without signing in.
    pub fn invitation(&self, form_id: Uuid, respondent_id: Uuid, expires_at: Option<DateTime<Utc>>) -> String {
        let mut body = Vec::with_capacity(1 + 16 + 16 + 8 + TAG_BYTES);
        body.push(INVITATION_FORMAT);
        body.extend_from_slice(form_id.as_bytes());
        body.extend_from_slice(respondent_id.as_bytes());
        body.extend_from_slice(&expires_at.map_or(0, |t| t.timestamp()).to_be_bytes());
        let tag = mac(&self.invitation, &[&body]);
        body.extend_from_slice(&tag[..TAG_BYTES]);
        format!("{INVITATION_PREFIX}{}", URL_SAFE_NO_PAD.encode(body))
    }

    /// The invitation a token carries, if this server signed it (expiry is the caller's check).
    pub fn read_invitation(&self, token: &str) -> Option<Invitation> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim().strip_prefix(INVITATION_PREFIX)?)
            .ok()?;
        if bytes.len() != 1 + 16 + 16 + 8 + TAG_BYTES || bytes[0] != INVITATION_FORMAT {
            return None;
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
        let expected = mac(&self.invitation, &[body]);
        if !bool::from(expected[..TAG_BYTES].ct_eq(tag)) {
            return None;
        }
        let form_id = Uuid::from_slice(&body[1..17]).ok()?;
        let respondent_id = Uuid::from_slice(&body[17..33]).ok()?;
        let seconds = i64::from_be_bytes(body[33..41].try_into().ok()?);
        let expires_at = match seconds {
            0 => None,
            s => Some(DateTime::from_timestamp(s, 0)?),
        };
        Some(Invitation {
            form_id,
            respondent_id,
            expires_at,
        })
    }

    /// The token that resumes a response in progress, from any device.
    pub fn resume_token(&self, response_id: Uuid) -> String {
        let tag = mac(&self.resume, &[response_id.as_bytes()]);
        let mut body = response_id.as_bytes().to_vec();
        body.extend_from_slice(&tag[..TAG_BYTES]);
        format!("{RESUME_PREFIX}{}", URL_SAFE_NO_PAD.encode(body))
    }

    /// The response a resume token names, if this server signed it.
    pub fn read_resume_token(&self, token: &str) -> Option<Uuid> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim().strip_prefix(RESUME_PREFIX)?).ok()?;
        if bytes.len() != 16 + TAG_BYTES {
            return None;
        }
        let (id, tag) = bytes.split_at(16);
        let expected = mac(&self.resume, &[id]);
        bool::from(expected[..TAG_BYTES].ct_eq(tag))
            .then(|| Uuid::from_slice(id).ok())
            .flatten()
    }

    /// A keyed hash of a client address: equal addresses give equal hashes, and without the
    /// server secret the address cannot be recovered by trying every address.
    pub fn hash_address(&self, address: IpAddr) -> String {
        let canonical = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        mac(&self.address, &[canonical.to_string().as_bytes()])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_round_trip_and_refuse_tampering() {
        let signer = Signer::new(b"a secret that is long enough for the tests");
        let (form, respondent) = (Uuid::now_v7(), Uuid::now_v7());
        let expires = DateTime::from_timestamp(2_000_000_000, 0);
        let token = signer.invitation(form, respondent, expires);
        assert_eq!(
            signer.read_invitation(&token),
            Some(Invitation {
                form_id: form,
                respondent_id: respondent,
                expires_at: expires
            })
        );
        let open = signer.invitation(form, respondent, None);
        assert_eq!(signer.read_invitation(&open).unwrap().expires_at, None);
        // Another secret, a flipped character, another purpose: refused.
        assert_eq!(
            Signer::new(b"another secret of enough length!!").read_invitation(&token),
            None
        );
        let mut bytes = token.clone().into_bytes();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(signer.read_invitation(&String::from_utf8(bytes).unwrap()), None);
        let resume = signer.resume_token(form);
        assert_eq!(signer.read_resume_token(&resume), Some(form));
        assert_eq!(signer.read_invitation(&resume.replace("rt_", "inv_")), None);
        assert_eq!(signer.read_resume_token(&token.replace("inv_", "rt_")), None);
        assert_eq!(signer.read_resume_token("rt_garbage"), None);
    }

    #[test]
    fn address_hashes_are_keyed_and_canonical() {
        let signer = Signer::new(b"a secret that is long enough for the tests");
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(signer.hash_address(v4), signer.hash_address(mapped));
        assert_eq!(signer.hash_address(v4).len(), 64);
        assert_ne!(
            signer.hash_address(v4),
            Signer::new(b"another secret of enough length!!").hash_address(v4)
        );
    }
}
