//! The PowerShell the Windows collector runs, one script per section so that a section
//! that fails or hangs (WMI can) costs only itself.
//!
//! Each script is one line without double quotes, so that it passes through Windows'
//! command-line quoting to `powershell.exe -Command` unchanged (an `-EncodedCommand`
//! would avoid quoting too, but endpoint protection flags it). Output is
//! `ConvertTo-Json -Depth 4 -Compress`, with every non-ASCII character escaped as
//! `\uXXXX`, so that the console code page cannot mangle names. Windows PowerShell 5.1
//! is assumed; the parsers also accept PowerShell 7's output.

/// Errors are silenced (a missing class or key leaves its field null), progress bars
/// are off, and `Out-Json` prints its argument as ASCII-only JSON (nothing for null).
macro_rules! preamble {
    () => {
        "$ErrorActionPreference='SilentlyContinue'; $ProgressPreference='SilentlyContinue'; \
         function Out-Json($o) { $j = ConvertTo-Json -InputObject $o -Depth 4 -Compress; \
         if ($j) { [regex]::Replace($j, '[^\\x00-\\x7F]', { param($m) '\\u{0:x4}' -f [int][char]$m.Value }) } }; "
    };
}

/// The properties read from an Uninstall key.
macro_rules! uninstall_fields {
    () => {
        "Select-Object DisplayName,DisplayVersion,Publisher,InstallDate,SystemComponent,\
         ParentKeyName,ReleaseType,PSPath"
    };
}

/// Identity, OS, CPU, memory, fixed disks, IP-enabled adapters, the machine GUID, whether
/// a reboot is pending (the servicing stack's and Windows Update's registry markers),
/// the automatic services that are stopped, and the owners of `explorer.exe` (the
/// interactive sessions), as one object. Each CIM query gives up after 10 s.
pub(super) const SYSTEM: &str = concat!(
    preamble!(),
    "$t = 10; $r = [ordered]@{ ",
    "ComputerSystem = Get-CimInstance -ClassName Win32_ComputerSystem -OperationTimeoutSec $t \
     | Select-Object Manufacturer,Model,SystemFamily,TotalPhysicalMemory,UserName; ",
    "Product = Get-CimInstance -ClassName Win32_ComputerSystemProduct -OperationTimeoutSec $t \
     | Select-Object UUID,IdentifyingNumber,Vendor,Name; ",
    "Bios = Get-CimInstance -ClassName Win32_BIOS -OperationTimeoutSec $t \
     | Select-Object SerialNumber,Manufacturer,SMBIOSBIOSVersion,ReleaseDate; ",
    "BaseBoard = Get-CimInstance -ClassName Win32_BaseBoard -OperationTimeoutSec $t \
     | Select-Object Manufacturer,Product,SerialNumber; ",
    "OperatingSystem = Get-CimInstance -ClassName Win32_OperatingSystem -OperationTimeoutSec $t \
     | Select-Object Caption,Version,BuildNumber,OSArchitecture,TotalVisibleMemorySize; ",
    "CurrentVersion = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' \
     | Select-Object DisplayVersion,UBR; ",
    "Processor = Get-CimInstance -ClassName Win32_Processor -OperationTimeoutSec $t \
     | Select-Object Name,Manufacturer,NumberOfCores,NumberOfLogicalProcessors,MaxClockSpeed; ",
    "LogicalDisk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3' \
     -OperationTimeoutSec $t | Select-Object DeviceID,FileSystem,Size,VolumeName; ",
    "NetworkAdapter = Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration \
     -Filter 'IPEnabled=True' -OperationTimeoutSec $t | Select-Object Description,MACAddress,IPAddress; ",
    "MachineGuid = (Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Cryptography' \
     -Name MachineGuid).MachineGuid; ",
    "PendingReboot = [ordered]@{ ComponentBasedServicing = Test-Path -Path \
     'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending'; \
     WindowsUpdate = Test-Path -Path \
     'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired' }; ",
    "StoppedAutoServices = @(Get-CimInstance -ClassName Win32_Service \
     -Filter 'StartMode=''Auto'' AND State=''Stopped''' -OperationTimeoutSec $t \
     | ForEach-Object { $_.Name }); ",
    "Sessions = @(Get-CimInstance -ClassName Win32_Process -Filter 'Name=''explorer.exe''' \
     -OperationTimeoutSec $t | ForEach-Object { $o = Invoke-CimMethod -InputObject $_ \
     -MethodName GetOwner; if ($o.User) { $o.Domain + '\\' + $o.User } }) ",
    "}; Out-Json $r"
);

/// Programs installed for the machine: the 64-bit and the 32-bit (WOW6432Node) views of
/// HKLM's Uninstall key. `PSPath` tells which view an entry is from.
pub(super) const MACHINE_SOFTWARE: &str = concat!(
    preamble!(),
    "Out-Json (Get-ItemProperty -Path \
     'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*',\
     'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' | ",
    uninstall_fields!(),
    ")"
);

/// Programs installed per user, from the Uninstall key of every loaded user hive (local
/// and domain users `S-1-5-21-*`, Entra ID users `S-1-12-1-*`; users who are not logged
/// on have no hive loaded).
pub(super) const USER_SOFTWARE: &str = concat!(
    preamble!(),
    "$p = Get-ChildItem -Path Registry::HKEY_USERS \
     | Where-Object { $_.PSChildName -match '^S-1-(5-21|12-1)-[0-9-]+$' } \
     | ForEach-Object { 'Registry::HKEY_USERS\\' + $_.PSChildName + \
     '\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' }; ",
    "if ($p) { Out-Json (Get-ItemProperty -Path $p | ",
    uninstall_fields!(),
    ") }"
);

/// MSIX/AppX packages of all users (needs an administrator; prints nothing otherwise).
/// Enums are printed as their names, not numbers.
pub(super) const APPX: &str = concat!(
    preamble!(),
    "Out-Json (Get-AppxPackage -AllUsers | Select-Object Name,Version,\
     @{n='Architecture';e={[string]$_.Architecture}},Publisher,IsFramework,IsResourcePackage)"
);

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&str; 4] = [SYSTEM, MACHINE_SOFTWARE, USER_SOFTWARE, APPX];

    #[test]
    fn scripts_survive_command_line_quoting() {
        for script in ALL {
            assert!(!script.contains('"'), "{script}");
            assert!(!script.contains('\n'), "{script}");
            assert!(!script.contains("  "), "{script}");
            assert!(script.len() < 8000);
        }
    }

    #[test]
    fn scripts_are_balanced() {
        for script in ALL {
            for (open, close) in [('(', ')'), ('{', '}'), ('[', ']')] {
                assert_eq!(
                    script.matches(open).count(),
                    script.matches(close).count(),
                    "{open}{close} in {script}"
                );
            }
            assert_eq!(script.matches('\'').count() % 2, 0, "{script}");
        }
    }

    #[test]
    fn scripts_read_what_the_parsers_expect() {
        for class in [
            "Win32_ComputerSystem ",
            "Win32_ComputerSystemProduct",
            "Win32_BIOS",
            "Win32_BaseBoard",
            "Win32_OperatingSystem",
            "Win32_Processor",
            "Win32_LogicalDisk",
            "Win32_NetworkAdapterConfiguration",
            "MachineGuid",
            "Win32_Service ",
            "PendingReboot",
            "StoppedAutoServices",
            "\\Component Based Servicing\\RebootPending'",
            "\\WindowsUpdate\\Auto Update\\RebootRequired'",
        ] {
            assert!(SYSTEM.contains(class), "{class}");
        }
        assert!(MACHINE_SOFTWARE.contains("\\WOW6432Node\\"));
        assert!(USER_SOFTWARE.contains("SystemComponent,ParentKeyName"));
        assert!(SYSTEM.contains("'Name=''explorer.exe'''"));
        assert!(SYSTEM.contains("-Filter 'StartMode=''Auto'' AND State=''Stopped'''"));
        assert!(SYSTEM.contains("'[^\\x00-\\x7F]'"));
    }
}
