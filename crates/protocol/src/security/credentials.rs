//! The merchant's identity for API v3: `mchid`, the API certificate's serial, and a signer.

use std::fmt;
use std::sync::Arc;

use super::error::KeyError;
use super::key::Signer;

/// The merchant id (`mchid`): 1..=32 ASCII digits (WeChat-assigned).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mchid(String);

impl Mchid {
    /// Validates a merchant id.
    pub fn new(value: impl Into<String>) -> Result<Self, KeyError> {
        let value = value.into();
        if value.is_empty() || value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeyError::InvalidId { field: "mchid", reason: "must be 1 to 32 ASCII digits" });
        }
        Ok(Self(value))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mchid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The serial of the merchant's API certificate (`serial_no` in `Authorization`): 1..=64
/// hexadecimal digits, kept as given (WeChat Pay shows it in upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MerchantSerial(String);

impl MerchantSerial {
    /// Validates a certificate serial.
    pub fn new(value: impl Into<String>) -> Result<Self, KeyError> {
        let value = value.into();
        if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::InvalidId { field: "merchant_serial", reason: "must be 1 to 64 hexadecimal digits" });
        }
        Ok(Self(value))
    }

    /// The serial.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MerchantSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What signs a merchant's v3 requests: `mchid`, certificate serial and signer.
/// Cheap to clone; `Debug` shows the ids, never the key.
#[derive(Clone)]
pub struct MerchantCredentials {
    mchid: Mchid,
    serial: MerchantSerial,
    signer: Arc<dyn Signer>,
}

impl MerchantCredentials {
    /// Credentials from a merchant id, certificate serial and signer.
    pub fn new(mchid: &str, serial: &str, signer: impl Signer + 'static) -> Result<Self, KeyError> {
        Ok(Self::from_parts(Mchid::new(mchid)?, MerchantSerial::new(serial)?, Arc::new(signer)))
    }

    /// Credentials from validated parts and a shared signer.
    pub fn from_parts(mchid: Mchid, serial: MerchantSerial, signer: Arc<dyn Signer>) -> Self {
        Self { mchid, serial, signer }
    }

    /// The merchant id.
    pub fn mchid(&self) -> &Mchid {
        &self.mchid
    }

    /// The certificate serial.
    pub fn serial(&self) -> &MerchantSerial {
        &self.serial
    }

    /// The signer.
    pub fn signer(&self) -> &dyn Signer {
        &*self.signer
    }
}

impl fmt::Debug for MerchantCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantCredentials")
            .field("mchid", &self.mchid.0)
            .field("serial", &self.serial.0)
            .field("signer", &self.signer)
            .finish()
    }
}
