// etcd 3.4's HTTP/JSON gateway (grpc-gateway) for the client port.
export { type GatewayHandler, JsonGateway, type JsonGatewayOptions } from './gateway.js';
export { GATEWAY_ROUTES } from './routes.js';
