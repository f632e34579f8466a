import sys

from lessons_code.cli import main

sys.exit(main())
