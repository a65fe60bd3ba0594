#!/usr/bin/python
# Lab stand-in (tests/lab): same name, options and documented return keys as the real module;
# acts on the host state file named by OSCE_LAB_STATE. Never used against real hosts.
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ.get("OSCE_LAB_LIB", ""))

# Ansible substitutes the task arguments for the marker (osce_lab.standin.ansible_module).
ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""

ARGUMENT_SPEC = {
    "filter": {"type": "list", "elements": "str",
               "choices": ["physical_disk", "virtual_disk", "win32_disk_drive", "partitions", "volumes"],
               "default": ["physical_disk", "virtual_disk", "win32_disk_drive", "partitions", "volumes"]},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["ansible_facts"]


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_disk_facts")
    f = module.params["filter"]
    disks = []
    with Host.open(path, write=False) as h:
        for n, d in enumerate(h.data["disks"]):
            disk = {"number": n, "size": d["size"], "bus_type": "SAS", "friendly_name": f"LAB DISK {n}",
                    "partition_style": "MBR", "partition_count": 1, "operational_status": "Online",
                    "sector_size": 512, "read_only": False, "bootable": n == 0, "system_disk": n == 0,
                    "clustered": False, "manufacturer": "LAB", "model": "Virtual Disk", "firmware_version": "1.0",
                    "location": f"Integrated : Bus 0 : Device {n}", "serial_number": f"LAB{n:04d}",
                    "unique_id": f"LAB-DISK-{n}", "path": f"\\\\?\\lab#disk{n}"}
            if "partitions" in f:
                part = {"number": 1, "size": d["size"], "type": "IFS", "drive_letter": d["drive"].rstrip(":\\"),
                        "transition_state": 1, "offset": 1048576, "hidden": False, "shadow_copy": False,
                        "mbr_type": 7, "active": n == 0}
                if "volumes" in f:
                    part["volumes"] = [{"size": d["size"], "size_remaining": d["free"], "type": "NTFS",
                                        "label": "", "health_status": "Healthy", "drive_type": "Fixed",
                                        "allocation_unit_size": 4096, "object_id": f"lab-vol-{n}",
                                        "path": f"\\\\?\\Volume{{lab-{n}}}\\"}]
                disk["partitions"] = [part]
            disks.append(disk)
    standin.finish(module, RETURNS, changed=False, ansible_facts={"ansible_disks": disks})


if __name__ == "__main__":
    main()
