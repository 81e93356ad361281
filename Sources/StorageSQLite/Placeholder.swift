import GRDB
import TradesKit
