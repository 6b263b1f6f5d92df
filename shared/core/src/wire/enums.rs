//! Closed enumerations, each written as its exact wire spelling. An unknown value is an error that
//! lists the accepted ones.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $wire:literal, )+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in the spec's order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }

            /// Reads the wire spelling (exact, case-sensitive).
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $wire => Some($name::$variant), )+
                    _ => None,
                }
            }

            fn rule() -> String {
                let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                format!("must be one of {}", all.join(", "))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a JSON string that {}", $name::rule())
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).ok_or_else(|| {
                            E::custom(format!("`{v}` is not accepted: {}", $name::rule()))
                        })
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

wire_enum! {
    /// The wallets the pay page lists as `paymentMethodType` samples ("Sample values include"):
    /// an open set, so the field itself is [`PaymentMethodType`]; this names the known ones.
    SampleWallet {
        /// TrueMoney.
        TrueMoney = "TRUEMONEY",
        /// AlipayHK.
        AlipayHk = "ALIPAY_HK",
        /// Touch 'n Go eWallet.
        Tng = "TNG",
        /// AlipayCN.
        AlipayCn = "ALIPAY_CN",
        /// GCash.
        Gcash = "GCASH",
        /// DANA.
        Dana = "DANA",
        /// KakaoPay.
        KakaoPay = "KAKAOPAY",
        /// Rabbit LINE Pay.
        RabbitLinePay = "RABBIT_LINE_PAY",
        /// Bank of the Philippine Islands.
        Bpi = "BPI",
        /// The Alipay+ wallets (user-presented, auto debit, NFC).
        ConnectWallet = "CONNECT_WALLET",
    }
}

/// `paymentMethod.paymentMethodType`: any string of 1 to 32 characters. The pay page lists
/// [`SampleWallet`]s after "Sample values include", an open set: an unknown wallet type is
/// processed like a known one (a refused valid request is a failed payment; `docs/wire.md`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentMethodType(super::scalar::Text<32>);

impl PaymentMethodType {
    /// `CONNECT_WALLET`: the Alipay+ wallets (what Alipay+ and the ACQP send in user-presented
    /// mode, auto debit and NFC).
    pub fn connect_wallet() -> PaymentMethodType {
        PaymentMethodType::from(SampleWallet::ConnectWallet)
    }

    /// Any wire value (1 to 32 characters).
    pub fn new(s: impl Into<String>) -> Result<PaymentMethodType, String> {
        super::scalar::Text::new(s).map(PaymentMethodType)
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The listed sample this value is, if it is one.
    pub fn sample(&self) -> Option<SampleWallet> {
        SampleWallet::parse(self.as_str())
    }
}

impl From<SampleWallet> for PaymentMethodType {
    fn from(w: SampleWallet) -> PaymentMethodType {
        // Every sample spelling is 1 to 32 characters (`sample_spellings_are_valid_types`).
        PaymentMethodType(super::scalar::Text::new_unchecked(w.as_str()))
    }
}

impl fmt::Display for PaymentMethodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

wire_enum! {
    /// `paymentFactor.inStorePaymentScenario`.
    InStorePaymentScenario {
        /// The user presents a payment code.
        PaymentCode = "PaymentCode",
        /// The user scans an order code.
        OrderCode = "OrderCode",
        /// The user scans an entry code.
        EntryCode = "EntryCode",
        /// The user taps a POS with the phone.
        NfcPayment = "NfcPayment",
    }
}

wire_enum! {
    /// `paymentFactor.authorizationType`.
    AuthorizationType {
        /// Full amount on receipt of the goods.
        FinalAuthorization = "FINAL_AUTHORIZATION",
        /// Prepayment before the service (hotels, transit).
        PreAuthorization = "PRE_AUTHORIZATION",
        /// Undefined.
        UndefinedAuthorization = "UNDEFINED_AUTHORIZATION",
    }
}

wire_enum! {
    /// `env.terminalType`.
    TerminalType {
        /// PC browser.
        Web = "WEB",
        /// Mobile browser.
        Wap = "WAP",
        /// Mobile app.
        App = "APP",
        /// Mini program.
        MiniApp = "MINI_APP",
    }
}

wire_enum! {
    /// `env.osType`.
    OsType {
        /// iOS.
        Ios = "IOS",
        /// Android.
        Android = "ANDROID",
    }
}

wire_enum! {
    /// `paymentPromoDetails[].promoType`.
    PromoType {
        /// Automatic discount.
        InstantDiscount = "INSTANT_DISCOUNT",
        /// Coupon.
        Coupon = "COUPON",
    }
}

wire_enum! {
    /// `paymentNetworkAdditionalInfo.orderSource`.
    OrderSource {
        /// Initiated at a terminal.
        Terminal = "TERMINAL",
        /// E-commerce.
        Ecommerce = "ECOMMERCE",
    }
}

wire_enum! {
    /// `paymentNetworkAdditionalInfo.paymentNetworkType`.
    PaymentNetworkType {
        /// Mastercard.
        MasterCard = "MASTER_CARD",
    }
}

wire_enum! {
    /// `paymentMethodMetaData.userLoginIdType`.
    UserLoginIdType {
        /// A phone number.
        Mobile = "MOBILE",
        /// An email address.
        Email = "EMAIL",
    }
}
