export {
  handleGatewayRequest as GET,
  handleGatewayRequest as POST,
  handleGatewayRequest as PUT,
  handleGatewayRequest as PATCH,
  handleGatewayRequest as DELETE,
} from "@/server/gateway/route";
