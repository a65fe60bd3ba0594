# Lab stand-in for the ansible.windows.win_reboot action plugin (tests/lab only).
# Reboots the simulated host: clears Windows' reboot-pending signals, counts the boot, writes ShutdownTime,
# honours unreachable faults (osce_lab/reboot.py).
from __future__ import annotations

import os
import sys
from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    "pre_reboot_delay": {"type": "float", "default": 2, "aliases": ["pre_reboot_delay_sec"]},
    "post_reboot_delay": {"type": "float", "default": 0, "aliases": ["post_reboot_delay_sec"]},
    "reboot_timeout": {"type": "float", "default": 600, "aliases": ["reboot_timeout_sec"]},
    "connect_timeout": {"type": "float", "default": 5, "aliases": ["connect_timeout_sec"]},
    "test_command": {"type": "str"},
    "msg": {"type": "str", "default": "Reboot initiated by Ansible"},
    "boot_time_command": {"type": "str", "default": "(Get-CimInstance -ClassName Win32_OperatingSystem -Property "
                          "LastBootUpTime).LastBootUpTime.ToFileTime()"},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["rebooted", "elapsed"]
LAB_LIB = os.environ.get("OSCE_LAB_LIB") or str(Path(__file__).resolve().parents[6])


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        if self._task.check_mode:  # as the real plugin: check mode reports a reboot, does nothing
            return {"changed": True, "elapsed": 0, "rebooted": True}
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if LAB_LIB not in sys.path:
            sys.path.insert(0, LAB_LIB)
        from osce_lab.osce import Fleet
        from osce_lab.reboot import lab_now, restart
        from osce_lab.state import Host, count_call, is_reachable
        state_dir = self._templar.template(task_vars.get("lab_state_dir"))
        if not state_dir:
            raise AnsibleActionFail("lab win_reboot: host var lab_state_dir is not set (not a lab host?)")
        path = Path(state_dir) / "hosts" / f"{task_vars['inventory_hostname']}.json"
        calls = count_call(path)  # counted apart (<state>/calls/), as every stand-in call
        with Host.open(path) as h:
            if not is_reachable(h.data, calls):
                return dict(result, unreachable=True, changed=False,
                            msg=f"Timed out waiting for the host to come back after the reboot ({h.name})")
            restart(h, lab_now(Fleet(Path(state_dir))))
        return dict(result, changed=True, rebooted=True, elapsed=float(args["pre_reboot_delay"]) + 1.0)
