//! Server enums shared by CloudPay and API v3 answers.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The type of a profit-sharing receiver (seeds/002 `receiver.type`, seeds/003 `type`).
    pub enum ReceiverType {
        /// `MERCHANT_ID`: a merchant (`mch_id` or `sub_mch_id`).
        MerchantId = "MERCHANT_ID",
        /// `PERSONAL_OPENID`: a person, by openid.
        PersonalOpenid = "PERSONAL_OPENID",
    }
}
