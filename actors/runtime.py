"""The actor runtime: bounded mailboxes, OTP-style supervisors and per-key actor registries.

See DESIGN.md, "Architecture: supervised actors"; the implementation lives in `_*` modules.
It is a module of its own, not the package's ``__init__``, so that importing a pure decision
module beside the actors loads no Trio.
"""

from ._actor import Behaviour as Behaviour
from ._actor import actor_child as actor_child
from ._errors import ActorDied as ActorDied
from ._errors import MailboxFull as MailboxFull
from ._errors import SupervisorGaveUp as SupervisorGaveUp
from ._mailbox import ActorRef as ActorRef
from ._registry import Registry as Registry
from ._spec import ChildSpec as ChildSpec
from ._spec import Restart as Restart
from ._spec import Strategy as Strategy
from ._spec import task_child as task_child
from ._statistics import ActorStatistics as ActorStatistics
from ._statistics import RegistryStatistics as RegistryStatistics
from ._statistics import SupervisorStatistics as SupervisorStatistics
from ._statistics import TaskStatistics as TaskStatistics
from ._supervisor import Supervisor as Supervisor
from ._wakeup import Wakeup as Wakeup
