//! Event types of the TCG PC Client Platform Firmware Profile. The list is closed on
//! purpose: a type we do not know is a parse error, because we cannot say what it measured.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! event_types {
    ($($variant:ident = $value:literal => $name:literal,)*) => {
        /// The `eventType` of a log record. Serialises as the spec's name (`EV_IPL`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventType {
            $($variant,)*
        }

        impl EventType {
            /// Every known type, in numeric order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The numeric value in the log.
            pub const fn value(self) -> u32 {
                match self {
                    $(EventType::$variant => $value,)*
                }
            }

            /// The name the specification uses, e.g. `EV_EFI_BOOT_SERVICES_APPLICATION`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }
        }
    };
}

event_types! {
    PrebootCert = 0x0 => "EV_PREBOOT_CERT",
    PostCode = 0x1 => "EV_POST_CODE",
    Unused = 0x2 => "EV_UNUSED",
    NoAction = 0x3 => "EV_NO_ACTION",
    Separator = 0x4 => "EV_SEPARATOR",
    Action = 0x5 => "EV_ACTION",
    EventTag = 0x6 => "EV_EVENT_TAG",
    SCrtmContents = 0x7 => "EV_S_CRTM_CONTENTS",
    SCrtmVersion = 0x8 => "EV_S_CRTM_VERSION",
    CpuMicrocode = 0x9 => "EV_CPU_MICROCODE",
    PlatformConfigFlags = 0xA => "EV_PLATFORM_CONFIG_FLAGS",
    TableOfDevices = 0xB => "EV_TABLE_OF_DEVICES",
    CompactHash = 0xC => "EV_COMPACT_HASH",
    Ipl = 0xD => "EV_IPL",
    IplPartitionData = 0xE => "EV_IPL_PARTITION_DATA",
    NonhostCode = 0xF => "EV_NONHOST_CODE",
    NonhostConfig = 0x10 => "EV_NONHOST_CONFIG",
    NonhostInfo = 0x11 => "EV_NONHOST_INFO",
    OmitBootDeviceEvents = 0x12 => "EV_OMIT_BOOT_DEVICE_EVENTS",
    EfiEventBase = 0x8000_0000 => "EV_EFI_EVENT_BASE",
    EfiVariableDriverConfig = 0x8000_0001 => "EV_EFI_VARIABLE_DRIVER_CONFIG",
    EfiVariableBoot = 0x8000_0002 => "EV_EFI_VARIABLE_BOOT",
    EfiBootServicesApplication = 0x8000_0003 => "EV_EFI_BOOT_SERVICES_APPLICATION",
    EfiBootServicesDriver = 0x8000_0004 => "EV_EFI_BOOT_SERVICES_DRIVER",
    EfiRuntimeServicesDriver = 0x8000_0005 => "EV_EFI_RUNTIME_SERVICES_DRIVER",
    EfiGptEvent = 0x8000_0006 => "EV_EFI_GPT_EVENT",
    EfiAction = 0x8000_0007 => "EV_EFI_ACTION",
    EfiPlatformFirmwareBlob = 0x8000_0008 => "EV_EFI_PLATFORM_FIRMWARE_BLOB",
    EfiHandoffTables = 0x8000_0009 => "EV_EFI_HANDOFF_TABLES",
    EfiPlatformFirmwareBlob2 = 0x8000_000A => "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
    EfiHandoffTables2 = 0x8000_000B => "EV_EFI_HANDOFF_TABLES2",
    EfiVariableBoot2 = 0x8000_000C => "EV_EFI_VARIABLE_BOOT2",
    EfiHcrtmEvent = 0x8000_0010 => "EV_EFI_HCRTM_EVENT",
    EfiVariableAuthority = 0x8000_00E0 => "EV_EFI_VARIABLE_AUTHORITY",
    EfiSpdmFirmwareBlob = 0x8000_00E1 => "EV_EFI_SPDM_FIRMWARE_BLOB",
    EfiSpdmFirmwareConfig = 0x8000_00E2 => "EV_EFI_SPDM_FIRMWARE_CONFIG",
}

impl EventType {
    /// The type with this numeric value, or `None` for values the spec list lacks.
    pub fn from_value(value: u32) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.value() == value)
    }

    /// The type with this spec name (exact, upper case).
    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        EventType::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event type {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_value(t.value()), Some(*t));
            assert_eq!(EventType::from_name(t.name()), Some(*t));
        }
        assert_eq!(EventType::ALL.len(), 36);
        assert_eq!(EventType::from_value(0x13), None);
        assert_eq!(EventType::from_value(0x8000_000D), None);
    }

    #[test]
    fn spec_values_are_right() {
        assert_eq!(EventType::EfiBootServicesApplication.value(), 0x8000_0003);
        assert_eq!(EventType::EfiVariableAuthority.value(), 0x8000_00E0);
        assert_eq!(EventType::OmitBootDeviceEvents.value(), 0x12);
    }

    #[test]
    fn serialises_as_spec_name() {
        let json = serde_json::to_string(&EventType::EfiBootServicesApplication).unwrap();
        assert_eq!(json, r#""EV_EFI_BOOT_SERVICES_APPLICATION""#);
        let back: EventType = serde_json::from_str(&json).unwrap();
        assert_eq!(back, EventType::EfiBootServicesApplication);
        assert!(serde_json::from_str::<EventType>(r#""EV_NOPE""#).is_err());
    }
}
