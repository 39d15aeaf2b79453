//! Server enums shared by CloudPay and API v3 answers.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The type of a profit-sharing receiver (the finish's `receiver.type`, the order
    /// query's `type`: docs/protocol.md §8.3, §8.4).
    pub enum ReceiverType {
        /// `MERCHANT_ID`: a merchant (`mch_id` or `sub_mch_id`).
        MerchantId = "MERCHANT_ID",
        /// `PERSONAL_OPENID`: a person, by openid.
        PersonalOpenid = "PERSONAL_OPENID",
    }
}
