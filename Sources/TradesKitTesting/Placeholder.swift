import TradesKit
