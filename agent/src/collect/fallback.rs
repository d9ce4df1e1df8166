//! The collector for systems without their own (BSDs and others), and what the Windows
//! and macOS collectors fall back on when their tools fail: what `sysinfo` knows about
//! the OS and SMBIOS identity; no logged-in users and no software list.

use super::CollectOptions;
use super::platform::PlatformReport;
use steward_shared::{Hardware, OsInfo};
use sysinfo::{Motherboard, Product, System};

pub(super) fn collect(_opts: &CollectOptions) -> PlatformReport {
    PlatformReport {
        os: os_info(),
        hardware: hardware(),
        ..PlatformReport::default()
    }
}

pub(super) fn os_info() -> OsInfo {
    OsInfo {
        family: std::env::consts::OS.to_string(),
        name: System::long_os_version()
            .or_else(|_| System::name())
            .unwrap_or_default(),
        version: System::os_version().unwrap_or_default(),
        ..OsInfo::default()
    }
}

pub(super) fn hardware() -> Hardware {
    let board = Motherboard::new().ok();
    let board_field =
        |f: fn(&Motherboard) -> Option<String>| board.as_ref().and_then(f).unwrap_or_default();
    Hardware {
        vendor: Product::vendor_name().unwrap_or_default(),
        model: Product::name().unwrap_or_default(),
        serial: Product::serial_number().unwrap_or_default(),
        uuid: Product::uuid().unwrap_or_default().to_ascii_lowercase(),
        board_vendor: board_field(Motherboard::vendor_name),
        board_model: board_field(Motherboard::name),
        board_serial: board_field(Motherboard::serial_number),
        ..Hardware::default()
    }
}
